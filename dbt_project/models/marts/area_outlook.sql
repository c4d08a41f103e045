-- The next list, if nothing changes: per area and ruleset in force in its outlook year O, the
-- status now (latest data year Y) and in O, and the fewest persons who, leaving their group in
-- O, keep the area off the status of O.
with

categories as (
    select * from {{ ref('ruleset_categories') }}
),

outlook_status as (
    select * from {{ ref('int_outlook_status') }}
    where is_outlook
),

outlook_criteria as (
    select * from {{ ref('int_outlook_criteria') }}
    where is_outlook
),

outlook_list as (
    {{ most_severe_status('outlook_status') | indent(4) }}
),

years as (
    select distinct
        area_id,
        latest_year,
        year as outlook_year
    from {{ ref('int_outlook_metrics') }}
    where is_outlook
),

-- Each category with itself (depth 0) and every category up its base chain.
category_chain as (
    {{ category_chain('categories') | indent(4) }}
),

category_roots as (
    {{ category_roots('category_chain') | indent(4) }}
),

listed as (
    select
        outlook_list.area_id,
        outlook_list.year,
        outlook_list.ruleset,
        outlook_list.status,
        outlook_status.criteria_met - outlook_status.criteria_required + 1 as count_needed
    from outlook_list
    inner join outlook_status
        on
            outlook_list.area_id = outlook_status.area_id
            and outlook_list.year = outlook_status.year
            and outlook_list.ruleset = outlook_status.ruleset
            and outlook_list.status = outlook_status.category
    where outlook_list.in_force
),

-- Route (a): the met count criteria of the status' root with a persons_to_exit, cheapest first.
root_criteria as (
    select
        listed.area_id,
        listed.ruleset,
        listed.count_needed,
        criteria.category,
        criteria.criterion,
        criteria.persons_to_exit,
        row_number() over (
            partition by listed.area_id, listed.ruleset
            order by criteria.persons_to_exit, criteria.category, criteria.criterion
        ) as cheapness
    from listed
    inner join category_roots
        on
            listed.ruleset = category_roots.ruleset
            and listed.status = category_roots.category
    inner join outlook_criteria as criteria
        on
            listed.area_id = criteria.area_id
            and listed.year = criteria.year
            and listed.ruleset = criteria.ruleset
            and category_roots.root_category = criteria.category
    where
        criteria.role = 'count'
        and criteria.met
        and criteria.persons_to_exit is not null
),

count_routes as (
    select
        area_id,
        ruleset,
        sum(persons_to_exit) as persons,
        count(*) as criteria_count,
        string_agg(category || '.' || criterion, ', ' order by cheapness) as criteria
    from root_criteria
    where cheapness <= count_needed
    group by area_id, ruleset, count_needed
    -- No route when fewer than the needed criteria have a persons_to_exit.
    having count(*) = count_needed
),

-- Route (b): one met gate criterion of the status or of a category up its base chain.
gate_routes as (
    select
        listed.area_id,
        listed.ruleset,
        criteria.persons_to_exit as persons,
        1 as criteria_count,
        criteria.category || '.' || criteria.criterion as criteria
    from listed
    inner join category_chain
        on
            listed.ruleset = category_chain.ruleset
            and listed.status = category_chain.category
    inner join outlook_criteria as criteria
        on
            listed.area_id = criteria.area_id
            and listed.year = criteria.year
            and listed.ruleset = criteria.ruleset
            and category_chain.ancestor = criteria.category
    where
        criteria.role = 'gate'
        and criteria.met
        and criteria.persons_to_exit is not null
),

-- The cheapest route: fewest persons, then fewest criteria, then by name.
cheapest as (
    select
        area_id,
        ruleset,
        persons,
        criteria,
        row_number() over (
            partition by area_id, ruleset
            order by persons, criteria_count, criteria
        ) as route_rank
    from (
        select * from count_routes
        union all
        select * from gate_routes
    ) as routes
)

select
    outlook_list.area_id,
    areas.area_name,
    years.latest_year,
    years.outlook_year,
    outlook_list.ruleset,
    latest.status as status_latest,
    outlook_list.status as status_outlook,
    outlook_list.status_label_da as status_outlook_label_da,
    outlook_list.status != 'none'
    and (
        latest.status = 'none'
        or outlook_categories.severity > latest_categories.severity
    ) as escalates,
    cast(coalesce(status_row.consecutive_years_qualified, 0) as integer)
        as consecutive_years_outlook,
    cast(
        case
            when outlook_list.status = 'none' then 0
            else cheapest.persons
        end as integer
    ) as persons_to_avoid,
    cheapest.criteria as persons_to_avoid_criteria,
    'persistence' as assumption
from outlook_list
inner join years
    on
        outlook_list.area_id = years.area_id
        and outlook_list.year = years.outlook_year
inner join {{ ref('stg_reference__areas') }} as areas
    on outlook_list.area_id = areas.area_id
left join {{ ref('area_list_status') }} as latest
    on
        outlook_list.area_id = latest.area_id
        and years.latest_year = latest.year
        and outlook_list.ruleset = latest.ruleset
left join categories as outlook_categories
    on
        outlook_list.ruleset = outlook_categories.ruleset
        and outlook_list.status = outlook_categories.category
left join categories as latest_categories
    on
        latest.ruleset = latest_categories.ruleset
        and latest.status = latest_categories.category
left join outlook_status as status_row
    on
        outlook_list.area_id = status_row.area_id
        and outlook_list.year = status_row.year
        and outlook_list.ruleset = status_row.ruleset
        and outlook_list.status = status_row.category
left join cheapest
    on
        outlook_list.area_id = cheapest.area_id
        and outlook_list.ruleset = cheapest.ruleset
        and cheapest.route_rank = 1
where outlook_list.in_force
