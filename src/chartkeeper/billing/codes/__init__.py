"""Code sets as effective-dated data: loaders, the registry, search and coding checks.

Public API: ``registry.CodeRegistry`` (load, list, look up on a date of service),
``loaders.open_code_file`` (the official distribution formats), ``search.SearchIndex``,
``checks.check_diagnoses`` (coding checks as findings) and ``terminology`` (the FHIR
operations).
"""
