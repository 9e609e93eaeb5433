"""FHIR RESTful interactions, one module each, named as in http://hl7.org/fhir/R4/http.html."""
