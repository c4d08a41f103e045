-- Status of every ruleset category for every area-year with statistics
-- (macros/category_status.sql, shared with the outlook).
{{ category_status(criteria=ref('int_area_criteria'), metrics=ref('int_area_metrics')) }}
