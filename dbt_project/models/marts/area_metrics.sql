with

benchmarks as (
    select * from {{ ref('int_benchmarks') }}
)

select
    metrics.area_id,
    areas.area_name,
    metrics.year,
    metrics.metric,
    metrics.numerator,
    metrics.denominator,
    metrics.value,
    metrics.has_suppressed,
    municipality.value as municipality_value,
    national.value as national_value
from {{ ref('int_area_metrics') }} as metrics
left join {{ ref('stg_reference__areas') }} as areas
    on metrics.area_id = areas.area_id
left join benchmarks as municipality
    on
        metrics.year = municipality.year
        and metrics.metric = municipality.metric
        and areas.municipality_code = municipality.code
        and municipality.level = 'municipality'
left join benchmarks as national
    on
        metrics.year = national.year
        and metrics.metric = national.metric
        and national.level = 'national'
