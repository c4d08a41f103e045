{#- Each ruleset category with itself (depth 0) and every category up its base chain, to any
    depth: the body of a CTE over `categories` (a CTE with ruleset, category and
    base_category). The recursive CTE is nested, as dbt injects unit-test fixtures after the
    outer `with`; a chain stops at the number of categories, so a cycle cannot run forever. -#}
{% macro category_chain(categories) -%}
    with recursive chain as (
        select
            ruleset,
            category,
            category as ancestor,
            0 as depth
        from {{ categories }}
        union all
        select
            chain.ruleset,
            chain.category,
            links.base_category as ancestor,
            chain.depth + 1 as depth
        from chain
        inner join {{ categories }} as links
            on
                chain.ruleset = links.ruleset
                and chain.ancestor = links.category
        where
            links.base_category is not null
            and chain.depth < (select count(*) from {{ categories }})
    )

    select * from chain
{%- endmacro %}

{#- Each ruleset category's root: the first category up its base chain (itself included) that
    has count criteria of its own, whose criteria_met and criteria_required the category takes
    (MARTS.md). `chain`: a CTE with category_chain's rows. A query with ruleset, category and
    root_category. -#}
{% macro category_roots(chain) -%}
    with count_categories as (
        select distinct
            ruleset,
            category
        from {{ ref('ruleset_criteria') }}
        where role = 'count'
    ),

    ranked_roots as (
        select
            {{ chain }}.ruleset,
            {{ chain }}.category,
            {{ chain }}.ancestor,
            row_number() over (
                partition by {{ chain }}.ruleset, {{ chain }}.category
                order by {{ chain }}.depth
            ) as root_rank
        from {{ chain }}
        inner join count_categories
            on
                {{ chain }}.ruleset = count_categories.ruleset
                and {{ chain }}.ancestor = count_categories.category
    )

    select
        ruleset,
        category,
        ancestor as root_category
    from ranked_roots
    where root_rank = 1
{%- endmacro %}
