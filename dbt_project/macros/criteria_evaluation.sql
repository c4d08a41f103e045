{#- Every criterion of ruleset_criteria evaluated for the area-years of `metrics` (all of them,
    or those where the SQL condition `evaluate` holds): the rows of int_area_criteria, whose
    columns are those of marts.area_criteria. One definition of a criterion for the history
    (int_area_criteria) and the outlook (int_outlook_criteria).
    - metrics: a relation with int_area_metrics' columns (area_id, year, metric, numerator,
      denominator, value); windows reach back into every year it holds.
    - benchmarks: a relation with int_benchmarks' columns (year, level, code, metric, value),
      plus is_carried when carried_benchmarks is true.
    Arithmetic is DOUBLE; values within 1e-9 of each other count as equal (MARTS.md). -#}
{% macro criteria_evaluation(metrics, benchmarks, evaluate=none, carried_benchmarks=false) %}
with

criteria as (
    select * from {{ ref('ruleset_criteria') }}
),

metrics as (
    select * from {{ metrics }}
),

benchmarks as (
    select * from {{ benchmarks }}
),

area_years as (
    select distinct
        area_id,
        year
    from metrics
    {%- if evaluate %}
    where {{ evaluate }}
    {%- endif %}
),

area_criteria as (
    select
        area_years.area_id,
        area_years.year,
        areas.region_code,
        criteria.ruleset,
        criteria.category,
        criteria.criterion,
        criteria.role,
        criteria.metric,
        criteria.operator,
        criteria.threshold as threshold_parameter,
        criteria.threshold_basis,
        criteria.window_years
    from area_years
    cross join criteria
    left join {{ ref('stg_reference__areas') }} as areas
        on area_years.area_id = areas.area_id
),

area_windows as (
    select distinct
        area_id,
        year,
        metric,
        window_years
    from area_criteria
),

national_window_keys as (
    select distinct
        year,
        metric,
        window_years
    from area_criteria
),

-- Mean over the window Y-w+1 .. Y; a missing year or NULL value makes it NULL.
metric_windows as (
    select
        windows.area_id,
        windows.year,
        windows.metric,
        windows.window_years,
        case
            when count(metrics.value) = windows.window_years then {{ exact_avg('metrics.value') }}
        end as window_mean,
        coalesce(
            {{ exact_sum('case when metrics.year < windows.year then metrics.value end') }}, 0
        ) as other_years_sum
    from area_windows as windows
    left join metrics
        on
            windows.area_id = metrics.area_id
            and windows.metric = metrics.metric
            and metrics.year between windows.year - windows.window_years + 1 and windows.year
    group by windows.area_id, windows.year, windows.metric, windows.window_years
),

national_windows as (
    select
        windows.year,
        windows.metric,
        windows.window_years,
        case
            when count(benchmarks.value) = windows.window_years then {{ exact_avg('benchmarks.value') }}
        end as window_mean
    from national_window_keys as windows
    left join benchmarks
        on
            windows.metric = benchmarks.metric
            and benchmarks.level = 'national'
            and benchmarks.year between windows.year - windows.window_years + 1 and windows.year
            {%- if carried_benchmarks %}
            -- A carried-forward benchmark stands only for the year evaluated, never for an
            -- earlier year of its window (there, a year that was not delivered stays missing).
            and (benchmarks.year = windows.year or not benchmarks.is_carried)
            {%- endif %}
    group by windows.year, windows.metric, windows.window_years
),

evaluated as (
    select
        area_criteria.*,
        current_year.numerator,
        current_year.denominator,
        metric_windows.window_mean as value,
        metric_windows.other_years_sum,
        case area_criteria.threshold_basis
            when 'absolute' then area_criteria.threshold_parameter
            when 'national_average' then area_criteria.threshold_parameter * national_windows.window_mean
            when 'regional_average' then area_criteria.threshold_parameter * regional.value
        end as threshold
    from area_criteria
    left join metrics as current_year
        on
            area_criteria.area_id = current_year.area_id
            and area_criteria.year = current_year.year
            and area_criteria.metric = current_year.metric
    left join metric_windows
        on
            area_criteria.area_id = metric_windows.area_id
            and area_criteria.year = metric_windows.year
            and area_criteria.metric = metric_windows.metric
            and area_criteria.window_years = metric_windows.window_years
    left join national_windows
        on
            area_criteria.year = national_windows.year
            and area_criteria.metric = national_windows.metric
            and area_criteria.window_years = national_windows.window_years
    left join benchmarks as regional
        on
            area_criteria.year = regional.year
            and area_criteria.metric = regional.metric
            and area_criteria.region_code = regional.code
            and regional.level = 'region'
),

judged as (
    select
        evaluated.*,
        coalesce(metric_definitions.is_share, false) as is_share,
        case
            when evaluated.value is null or evaluated.threshold is null then null
            when evaluated.operator = '>' then evaluated.value > evaluated.threshold + 1e-9
            when evaluated.operator = '>=' then evaluated.value >= evaluated.threshold - 1e-9
            when evaluated.operator = '<' then evaluated.value < evaluated.threshold - 1e-9
            when evaluated.operator = '<=' then evaluated.value <= evaluated.threshold + 1e-9
        end as met,
        case
            when evaluated.operator in ('>', '>=') then evaluated.value - evaluated.threshold
            when evaluated.operator in ('<', '<=') then evaluated.threshold - evaluated.value
        end as raw_margin,
        -- x = n - d * (w * t - S): the numerator level of year Y at which the mean equals t.
        evaluated.numerator
        - evaluated.denominator
        * (evaluated.window_years * evaluated.threshold - evaluated.other_years_sum) as exit_level
    from evaluated
    left join {{ criteria_metric_definitions() }}
        on evaluated.metric = metric_definitions.metric
),

persons as (
    select
        judged.*,
        case
            when judged.operator = '>' then ceil(judged.exit_level - 1e-9)
            when judged.operator = '>=' then floor(judged.exit_level + 1e-9) + 1
        end as persons_needed
    from judged
)

select
    area_id,
    year,
    ruleset,
    category,
    criterion,
    role,
    metric,
    value,
    operator,
    threshold,
    met,
    case when abs(raw_margin) <= 1e-9 then 0 else raw_margin end as margin,
    cast(
        case
            when not is_share or met is null then null
            when not met then 0
            when persons_needed > numerator + 1e-9 then null
            else persons_needed
        end as integer
    ) as persons_to_exit
from persons
{% endmacro %}
