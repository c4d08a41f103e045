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

-- The series that have no value in an outlook year, with every earlier year that has one.
earlier_values as (
    select
        outlook_years.year,
        series.level,
        series.code,
        series.metric,
        earlier.year as carried_from_year,
        earlier.value,
        row_number() over (
            partition by outlook_years.year, series.level, series.code, series.metric
            order by earlier.year desc
        ) as recency
    from outlook_years
    cross join series
    inner join benchmarks as earlier
        on
            series.level = earlier.level
            and series.code = earlier.code
            and series.metric = earlier.metric
            and earlier.year < outlook_years.year
            and earlier.value is not null
    where not exists (
        select 1
        from benchmarks as delivered
        where
            delivered.year = outlook_years.year
            and delivered.level = series.level
            and delivered.code = series.code
            and delivered.metric = series.metric
            and delivered.value is not null
    )
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
-- A suppressed cell in a year that gets a carried value gives way to it.
where not exists (
    select 1
    from carried
    where
        carried.year = benchmarks.year
        and carried.level = benchmarks.level
        and carried.code = benchmarks.code
        and carried.metric = benchmarks.metric
)

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
