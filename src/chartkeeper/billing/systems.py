"""The code systems and identifier systems billing resources use, in one place.

Where HL7 or a US implementation guide names a system (CARIN Blue Button for supporting
information and care team roles, NUBC for revenue codes and bill types, CMS for places of
service) that one is used; chartkeeper's own URIs cover only what no standard names: the
patient control number and the payer's electronic id.
"""

from __future__ import annotations

NPI = "http://hl7.org/fhir/sid/us-npi"
#: US employer identification number (the TIN of an organization)
EIN = "urn:oid:2.16.840.1.113883.4.4"
NUCC_TAXONOMY = "http://nucc.org/provider-taxonomy"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
CPT = "http://www.ama-assn.org/go/cpt"
SNOMED = "http://snomed.info/sct"

#: the patient control number (CLM01 of the 837, CLP01 of the 835): at most 20 characters
CLAIM_NUMBER = "https://chartkeeper.dev/fhir/sid/claim-number"
#: a payer's electronic id (NM109 of loop 2010BB), on the payer Organization
PAYER_ID = "https://chartkeeper.dev/fhir/sid/payer-id"
#: modifiers on a ChargeItem (R4 ChargeItem has no modifier element): extension url
MODIFIER_EXTENSION = "https://chartkeeper.dev/fhir/StructureDefinition/chargeitem-modifier"
#: the NUBC revenue code of an institutional line (R4 ChargeItem has no element for it)
REVENUE_EXTENSION = "https://chartkeeper.dev/fhir/StructureDefinition/chargeitem-revenue-code"
#: the CDM charge code, as a second coding of ChargeItem.code
CDM_SYSTEM = "https://chartkeeper.dev/fhir/CodeSystem/cdm"
#: ChargeItem.identifier: "<source reference>#<charge code>", what makes capture idempotent
CHARGE_SOURCE = "https://chartkeeper.dev/fhir/sid/charge-source"

CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
DIAGNOSIS_TYPE = "http://terminology.hl7.org/CodeSystem/ex-diagnosistype"
PROCESS_PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"
PLACE_OF_SERVICE = (
    "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
)
REVENUE_CODE = "https://www.nubc.org/CodeSystem/RevenueCodes"
TYPE_OF_BILL = "https://www.nubc.org/CodeSystem/TypeOfBill"
ADMIT_TYPE = "https://www.nubc.org/CodeSystem/PriorityTypeOfAdmitOrVisit"
POINT_OF_ORIGIN = "https://www.nubc.org/CodeSystem/PointOfOrigin"
DISCHARGE_STATUS = "https://www.nubc.org/CodeSystem/PatDischargeStatus"
SUPPORTING_INFO = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBSupportingInfoType"
CARE_TEAM_ROLE = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBClaimCareTeamRole"
#: secondary diagnoses (ex-diagnosistype has "principal" but no "secondary")
C4BB_DIAGNOSIS_TYPE = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBClaimDiagnosisType"
SUBSCRIBER_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
