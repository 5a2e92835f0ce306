"""Custom fields marketing declares, consent flags and marketing's event kinds.

Custom fields live in lead.attributes[name]; `services.attributes_clean` types a
lead's values by the declared kind (imports and the API both call it), and the
definition's rules test them as `attributes.<name>` (scoring.rules). Consent
(`consent_changes`) is three flags on the lead with the time and source of the
last change, each change a history row.
"""
