-- The criteria of every area-year with statistics (int_area_criteria's rows, as they are) and
-- of each area's outlook year O, evaluated by the same macro over int_outlook_metrics (the
-- history plus the persisted year O) with the benchmarks of O carried forward where not
-- delivered. benchmark_carried_from_year: the year whose benchmark stands for O in the
-- threshold (NULL when the threshold uses none carried forward).
with

history as (
    select * from {{ ref('int_area_criteria') }}
),

outlook as (
    {{ criteria_evaluation(
        metrics=ref('int_outlook_metrics'),
        benchmarks=ref('int_outlook_benchmarks'),
        evaluate='is_outlook',
        carried_benchmarks=true,
    ) | indent(4) }}
),

benchmarks as (
    select * from {{ ref('int_outlook_benchmarks') }}
),

-- The benchmark of year O each outlook criterion's threshold reads, when it was carried.
carried as (
    select
        outlook.area_id,
        outlook.year,
        outlook.ruleset,
        outlook.category,
        outlook.criterion,
        benchmarks.carried_from_year
    from outlook
    inner join {{ ref('ruleset_criteria') }} as criteria
        on
            outlook.ruleset = criteria.ruleset
            and outlook.category = criteria.category
            and outlook.criterion = criteria.criterion
    inner join {{ ref('stg_reference__areas') }} as areas
        on outlook.area_id = areas.area_id
    inner join benchmarks
        on
            outlook.year = benchmarks.year
            and outlook.metric = benchmarks.metric
            and benchmarks.is_carried
            and (
                (criteria.threshold_basis = 'national_average' and benchmarks.level = 'national')
                or (
                    criteria.threshold_basis = 'regional_average'
                    and benchmarks.level = 'region'
                    and areas.region_code = benchmarks.code
                )
            )
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
    margin,
    persons_to_exit,
    cast(null as integer) as benchmark_carried_from_year,
    false as is_outlook
from history

union all

select
    outlook.area_id,
    outlook.year,
    outlook.ruleset,
    outlook.category,
    outlook.criterion,
    outlook.role,
    outlook.metric,
    outlook.value,
    outlook.operator,
    outlook.threshold,
    outlook.met,
    outlook.margin,
    outlook.persons_to_exit,
    carried.carried_from_year as benchmark_carried_from_year,
    true as is_outlook
from outlook
left join carried
    on
        outlook.area_id = carried.area_id
        and outlook.year = carried.year
        and outlook.ruleset = carried.ruleset
        and outlook.category = carried.category
        and outlook.criterion = carried.criterion
