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
