-- The list an area is on under a ruleset: its qualifying category of highest severity
-- (macros/most_severe_status.sql, shared with the outlook).
{{ most_severe_status(ref('int_area_status')) }}
