"""Clinical language for patients: abbreviations, context (negation, uncertainty, family
history, time), lay vocabulary, readability and plain-language explanations.

Pure text in, text out: no store, no FHIR, no network. The vocabularies are versioned data
files in ``data/`` with their sources and licences in ``data/SOURCES.md``.

The entry points:

- ``explain.explain_text(text)``: a note in plain words, with spans back to the original;
- ``abbreviations.find_abbreviations(text)``, ``senses``, ``variants`` (chart search synonyms);
- ``context.cues(text)``: negation, possibility, family, history and hypothetical scopes;
- ``diagnoses.explain_diagnosis(code, title)``, ``labs.result_in_words(...)``,
  ``sig.sig_to_words(sig)``;
- ``readability.readability(text)``: Flesch-Kincaid and Coleman-Liau grades.
"""
