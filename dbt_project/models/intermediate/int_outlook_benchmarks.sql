-- The benchmarks as delivered, plus for every outlook year O (of any area) and every benchmark
-- series (level, code, metric) without a value for O: the value of the latest earlier year
-- that has one, carried forward (is_carried). A suppressed cell (`..`) has no value.
with

benchmarks as (
    select * from {{ ref('int_benchmarks') }}
),

outlook_years as (
    select distinct year
    from {{ ref('int_outlook_metrics') }}
    where is_outlook
),

series as (
    select distinct
        level,
        code,
        metric
    from benchmarks
),

delivered_values as (
    select
        year,
        level,
        code,
        metric
    from benchmarks
    where value is not null
),

-- The series without a value in an outlook year.
missing_values as (
    select
        outlook_years.year,
        series.level,
        series.code,
        series.metric
    from outlook_years
    cross join series
    left join delivered_values as delivered
        on
            outlook_years.year = delivered.year
            and series.level = delivered.level
            and series.code = delivered.code
            and series.metric = delivered.metric
    where delivered.year is null
),

earlier_values as (
    select
        missing.year,
        missing.level,
        missing.code,
        missing.metric,
        earlier.year as carried_from_year,
        earlier.value,
        row_number() over (
            partition by missing.year, missing.level, missing.code, missing.metric
            order by earlier.year desc
        ) as recency
    from missing_values as missing
    inner join benchmarks as earlier
        on
            missing.level = earlier.level
            and missing.code = earlier.code
            and missing.metric = earlier.metric
            and missing.year > earlier.year
    where earlier.value is not null
),

carried as (
    select
        year,
        level,
        code,
        metric,
        value,
        false as is_suppressed,
        true as is_carried,
        carried_from_year
    from earlier_values
    where recency = 1
)

-- A suppressed cell in a year that gets a carried value gives way to it.
select
    benchmarks.year,
    benchmarks.level,
    benchmarks.code,
    benchmarks.metric,
    benchmarks.value,
    benchmarks.is_suppressed,
    false as is_carried,
    cast(null as integer) as carried_from_year
from benchmarks
left join carried
    on
        benchmarks.year = carried.year
        and benchmarks.level = carried.level
        and benchmarks.code = carried.code
        and benchmarks.metric = carried.metric
where carried.year is null

union all

select
    year,
    level,
    code,
    metric,
    value,
    is_suppressed,
    is_carried,
    carried_from_year
from carried
