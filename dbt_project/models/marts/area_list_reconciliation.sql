-- The computed list status beside the official one: every area of areas.csv for every year
-- the official list covers (empty when the optional file is not delivered).
with

official as (
    select
        year,
        area_id,
        category
    from {{ ref('stg_reference__official_list') }}
),

areas as (
    select
        area_id,
        area_name
    from {{ ref('stg_reference__areas') }}
),

covered_years as (
    select distinct year from official
),

-- Per covered year, the ruleset with a category in force: latest first_year, then greatest name.
ranked_rulesets as (
    select
        covered_years.year,
        categories.ruleset,
        row_number() over (
            partition by covered_years.year
            order by categories.first_year desc, categories.ruleset desc
        ) as ruleset_rank
    from covered_years
    inner join {{ ref('ruleset_categories') }} as categories
        on
            covered_years.year >= categories.first_year
            and (categories.last_year is null or covered_years.year <= categories.last_year)
),

rulesets as (
    select
        year,
        ruleset
    from ranked_rulesets
    where ruleset_rank = 1
),

completeness as (
    select
        area_id,
        year,
        ruleset,
        bool_and(complete) as complete
    from {{ ref('area_status') }}
    group by area_id, year, ruleset
)

select
    areas.area_id,
    areas.area_name,
    covered_years.year,
    rulesets.ruleset,
    list_status.status as computed_status,
    coalesce(official.category, 'none') as official_status,
    case when list_status.status is not null then completeness.complete end as computed_complete,
    list_status.status = coalesce(official.category, 'none') as agrees
from areas
cross join covered_years
left join rulesets
    on covered_years.year = rulesets.year
left join {{ ref('area_list_status') }} as list_status
    on
        areas.area_id = list_status.area_id
        and covered_years.year = list_status.year
        and rulesets.ruleset = list_status.ruleset
left join completeness
    on
        areas.area_id = completeness.area_id
        and covered_years.year = completeness.year
        and rulesets.ruleset = completeness.ruleset
left join official
    on
        areas.area_id = official.area_id
        and covered_years.year = official.year
