"""Pure FHIR R4: resources as dicts, search parameters, indexing, interactions. No HTTP, no SQL."""
