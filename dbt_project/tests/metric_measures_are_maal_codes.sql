-- Every MÅL code a metric definition names is a code of the seed maal_codes (the codes' one
-- declaration), for the source it is read from: a renamed code fails here, not as empty metrics.
-- The Dagster check belongs to maal_codes (the test reads the macro and the seed).
{{ config(meta={'dagster': {'ref': {'name': 'maal_codes'}}}) }}
with

definitions as (
    select * from {{ criteria_metric_definitions() }}
),

used as (
    select
        numerator_measure as code,
        'area_statistics' as source
    from definitions
    union all
    select
        denominator_measure as code,
        'area_statistics' as source
    from definitions
    union all
    select
        benchmark_measure as code,
        'benchmarks' as source
    from definitions
)

select
    used.code,
    used.source
from used
left join {{ ref('maal_codes') }} as codes
    on used.code = codes.code and used.source = codes.source
where used.code is not null and codes.code is null
