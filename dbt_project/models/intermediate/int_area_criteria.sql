-- Every criterion of ruleset_criteria evaluated for every area-year with statistics
-- (macros/criteria_evaluation.sql, shared with the outlook).
{{ criteria_evaluation(metrics=ref('int_area_metrics'), benchmarks=ref('int_benchmarks')) }}
