-- One row per (area, year, metric) for the area-years with statistics. Per metric, a department
-- counts only when both its numerator and denominator cells are delivered and not suppressed.
with

metric_definitions as (
    select * from {{ criteria_metric_definitions() }}
),

membership as (
    select * from {{ ref('int_department_area_years') }}
),

cells as (
    select
        membership.area_id,
        statistics.year,
        statistics.housing_org,
        statistics.department_no,
        statistics.measure,
        statistics.value,
        statistics.is_suppressed
    from {{ ref('stg_statistics__area_statistics') }} as statistics
    inner join membership
        on
            statistics.housing_org = membership.housing_org
            and statistics.department_no = membership.department_no
            and statistics.year = membership.year
),

area_years as (
    select distinct
        area_id,
        year
    from cells
),

department_years as (
    select distinct
        area_id,
        year,
        housing_org,
        department_no
    from cells
),

department_metrics as (
    select
        department_years.area_id,
        department_years.year,
        metric_definitions.metric,
        numerator_cell.value as numerator,
        denominator_cell.value as denominator,
        coalesce(numerator_cell.is_suppressed, false)
        or coalesce(denominator_cell.is_suppressed, false) as is_suppressed,
        numerator_cell.value is not null
        and not numerator_cell.is_suppressed
        and (
            metric_definitions.denominator_measure is null
            or (denominator_cell.value is not null and not denominator_cell.is_suppressed)
        ) as contributes
    from department_years
    cross join metric_definitions
    left join cells as numerator_cell
        on
            department_years.area_id = numerator_cell.area_id
            and department_years.year = numerator_cell.year
            and department_years.housing_org = numerator_cell.housing_org
            and department_years.department_no = numerator_cell.department_no
            and metric_definitions.numerator_measure = numerator_cell.measure
    left join cells as denominator_cell
        on
            department_years.area_id = denominator_cell.area_id
            and department_years.year = denominator_cell.year
            and department_years.housing_org = denominator_cell.housing_org
            and department_years.department_no = denominator_cell.department_no
            and metric_definitions.denominator_measure = denominator_cell.measure
),

sums as (
    select
        area_id,
        year,
        metric,
        {{ exact_sum('case when contributes then numerator end') }} as numerator,
        {{ exact_sum('case when contributes then denominator end') }} as denominator,
        bool_or(is_suppressed) as has_suppressed
    from department_metrics
    group by area_id, year, metric
)

select
    area_years.area_id,
    area_years.year,
    metric_definitions.metric,
    sums.numerator,
    sums.denominator,
    case
        when metric_definitions.denominator_measure is null then sums.numerator
        else sums.numerator / nullif(sums.denominator, 0)
    end as value,
    coalesce(sums.has_suppressed, false) as has_suppressed
from area_years
cross join metric_definitions
left join sums
    on
        area_years.area_id = sums.area_id
        and area_years.year = sums.year
        and metric_definitions.metric = sums.metric
