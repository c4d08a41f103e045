-- The metric rows of every area-year with statistics, and for each area one more year: its
-- outlook year O = Y + 1 (Y its latest data year), in which every metric keeps its year-Y
-- numerator, denominator and value (MARTS.md: the outlook assumes persistence).
with

metrics as (
    select * from {{ ref('int_area_metrics') }}
),

latest_years as (
    select
        area_id,
        max(year) as latest_year
    from metrics
    group by area_id
)

select
    metrics.area_id,
    metrics.year,
    metrics.metric,
    metrics.numerator,
    metrics.denominator,
    metrics.value,
    metrics.has_suppressed,
    latest_years.latest_year,
    false as is_outlook
from metrics
inner join latest_years
    on metrics.area_id = latest_years.area_id

union all

select
    metrics.area_id,
    metrics.year + 1 as year,
    metrics.metric,
    metrics.numerator,
    metrics.denominator,
    metrics.value,
    metrics.has_suppressed,
    latest_years.latest_year,
    true as is_outlook
from metrics
inner join latest_years
    on
        metrics.area_id = latest_years.area_id
        and metrics.year = latest_years.latest_year
