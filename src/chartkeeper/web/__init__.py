"""HTTP entry point: the FHIR REST API under /fhir and the workbench pages under /."""
