"""FHIR operations, one module each (http://hl7.org/fhir/R4/operations.html)."""
