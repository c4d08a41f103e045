-- Every category's base chain must end in a category of the same ruleset without a base
-- (no dangling base_category, no cycles), every criterion must belong to a known category, and
-- a category with a base category has no count criteria of its own (MARTS.md: it takes its
-- root's).
-- The Dagster check belongs to ruleset_criteria (the test reads more than one node).
{{ config(meta={'dagster': {'ref': {'name': 'ruleset_criteria'}}}) }}
with

categories as (
    select * from {{ ref('ruleset_categories') }}
),

category_chain as (
    {{ category_chain('categories') }}
),

roots_reached as (
    select distinct
        category_chain.ruleset,
        category_chain.category
    from category_chain
    inner join categories as roots
        on
            category_chain.ruleset = roots.ruleset
            and category_chain.ancestor = roots.category
    where roots.base_category is null
)

select
    categories.ruleset,
    categories.category,
    'base chain does not reach a category without base_category' as problem
from categories
left join roots_reached
    on
        categories.ruleset = roots_reached.ruleset
        and categories.category = roots_reached.category
where roots_reached.category is null
union all
select
    criteria.ruleset,
    criteria.category,
    'criterion of an unknown category: ' || criteria.criterion as problem
from {{ ref('ruleset_criteria') }} as criteria
left join categories
    on
        criteria.ruleset = categories.ruleset
        and criteria.category = categories.category
where categories.category is null
union all
select
    criteria.ruleset,
    criteria.category,
    'count criterion of a category with a base category: ' || criteria.criterion as problem
from {{ ref('ruleset_criteria') }} as criteria
inner join categories
    on
        criteria.ruleset = categories.ruleset
        and criteria.category = categories.category
where criteria.role = 'count' and categories.base_category is not null
