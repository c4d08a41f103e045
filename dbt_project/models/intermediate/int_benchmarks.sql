-- Comparators per (year, level, code, metric) as ratios (percent / 100) or DKK (income).
with

metric_definitions as (
    select * from {{ criteria_metric_definitions() }}
)

select
    benchmarks.year,
    benchmarks.level,
    benchmarks.code,
    metric_definitions.metric,
    benchmarks.value * metric_definitions.benchmark_scale as value,
    benchmarks.is_suppressed
from {{ ref('stg_statistics__benchmarks') }} as benchmarks
inner join metric_definitions
    on benchmarks.measure = metric_definitions.benchmark_measure
where
    benchmarks.level in ('region', 'municipality')
    or (benchmarks.level = 'national' and benchmarks.code = 'DK')
