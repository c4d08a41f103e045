{#- The status of every ruleset category for every area-year of `metrics` that has a
    residents row: the rows of int_area_status, whose columns are those of marts.area_status.
    One definition of a status for the history (int_area_status) and the outlook
    (int_outlook_status).
    - criteria: a relation with int_area_criteria's columns, for those area-years;
    - metrics: a relation with int_area_metrics' columns (the residents rows are read).
    Base-category chains (e.g. haardt_ghetto -> ghetto -> udsat) are walked recursively, to any
    depth; runs of consecutive years are counted over every year the inputs hold. -#}
{% macro category_status(criteria, metrics) %}
{%- set level_columns = ['area_id', 'year', 'ruleset', 'category', 'depth', 'qualifies'] %}
with

categories as (
    select * from {{ ref('ruleset_categories') }}
),

criteria as (
    select * from {{ criteria }}
),

-- Each category with itself (depth 0) and every category up its base chain.
category_chain as (
    {{ category_chain('categories') }}
),

-- The root: the first category up the chain that has count criteria of its own.
category_roots as (
    {{ category_roots('category_chain') | indent(4) }}
),

residents as (
    select
        area_id,
        year,
        value as residents
    from {{ metrics }}
    where metric = 'residents'
),

own_criteria as (
    select
        area_id,
        year,
        ruleset,
        category,
        count(*) filter (where role = 'count' and met) as criteria_met,
        coalesce(bool_and(coalesce(met, false)) filter (where role = 'gate'), true) as gate_met
    from criteria
    group by area_id, year, ruleset, category
),

chain_completeness as (
    select
        criteria.area_id,
        criteria.year,
        category_chain.ruleset,
        category_chain.category,
        bool_and(criteria.value is not null) as complete
    from category_chain
    inner join criteria
        on
            category_chain.ruleset = criteria.ruleset
            and category_chain.ancestor = criteria.category
    group by criteria.area_id, criteria.year, category_chain.ruleset, category_chain.category
),

category_years as (
    select
        residents.area_id,
        residents.year,
        categories.ruleset,
        categories.category,
        categories.base_category,
        categories.consecutive_years,
        residents.residents,
        residents.residents >= categories.min_residents - 1e-9 as eligible,
        coalesce(root_criteria.criteria_met, 0) as criteria_met,
        case
            when categories.base_category is null then categories.criteria_required
            else roots.criteria_required
        end as criteria_required,
        coalesce(own_criteria.gate_met, true) as gate_met,
        coalesce(
            residents.year >= categories.first_year
            and (categories.last_year is null or residents.year <= categories.last_year),
            false
        ) as in_force,
        coalesce(chain_completeness.complete, true) as complete
    from residents
    cross join categories
    left join category_roots
        on
            categories.ruleset = category_roots.ruleset
            and categories.category = category_roots.category
    left join categories as roots
        on
            category_roots.ruleset = roots.ruleset
            and category_roots.root_category = roots.category
    left join own_criteria as root_criteria
        on
            residents.area_id = root_criteria.area_id
            and residents.year = root_criteria.year
            and category_roots.ruleset = root_criteria.ruleset
            and category_roots.root_category = root_criteria.category
    left join own_criteria
        on
            residents.area_id = own_criteria.area_id
            and residents.year = own_criteria.year
            and categories.ruleset = own_criteria.ruleset
            and categories.category = own_criteria.category
    left join chain_completeness
        on
            residents.area_id = chain_completeness.area_id
            and residents.year = chain_completeness.year
            and categories.ruleset = chain_completeness.ruleset
            and categories.category = chain_completeness.category
),

-- Level by level down from the categories without a base: each step sees only the previous
-- level (its base categories) with their runs of qualifying years.
qualification as (
    with recursive levels as (
        {% call criteria_with_consecutive_years(level_columns) %}
            select
                area_id,
                year,
                ruleset,
                category,
                0 as depth,
                coalesce(eligible and criteria_met >= criteria_required and gate_met, false) as qualifies
            from category_years
            where base_category is null
        {% endcall %}
        union all
        {% call criteria_with_consecutive_years(level_columns) %}
            select
                child.area_id,
                child.year,
                child.ruleset,
                child.category,
                base.depth + 1 as depth,
                coalesce(
                    case
                        when child.consecutive_years is null then base.qualifies and child.gate_met
                        else base.consecutive_years_qualified >= child.consecutive_years
                    end,
                    false
                ) as qualifies
            from levels as base
            inner join category_years as child
                on
                    base.area_id = child.area_id
                    and base.year = child.year
                    and base.ruleset = child.ruleset
                    and base.category = child.base_category
            where base.depth < (select count(*) from categories)
        {% endcall %}
    )

    select * from levels
)

select
    category_years.area_id,
    category_years.year,
    category_years.ruleset,
    category_years.category,
    category_years.residents,
    category_years.eligible,
    cast(category_years.criteria_met as integer) as criteria_met,
    category_years.criteria_required,
    category_years.gate_met,
    coalesce(qualification.qualifies, false) as qualifies,
    cast(coalesce(qualification.consecutive_years_qualified, 0) as integer) as consecutive_years_qualified,
    category_years.in_force,
    category_years.complete
from category_years
left join qualification
    on
        category_years.area_id = qualification.area_id
        and category_years.year = qualification.year
        and category_years.ruleset = qualification.ruleset
        and category_years.category = qualification.category
{% endmacro %}
