-- The criteria of each area's outlook year O (int_outlook_criteria), for the rulesets in
-- force in O (those of area_outlook).
select
    criteria.area_id,
    criteria.year,
    criteria.ruleset,
    criteria.category,
    criteria.criterion,
    criteria.role,
    criteria.metric,
    criteria.value,
    criteria.operator,
    criteria.threshold,
    criteria.met,
    criteria.margin,
    criteria.persons_to_exit,
    criteria.benchmark_carried_from_year
from {{ ref('int_outlook_criteria') }} as criteria
inner join {{ ref('area_outlook') }} as outlook
    on
        criteria.area_id = outlook.area_id
        and criteria.year = outlook.outlook_year
        and criteria.ruleset = outlook.ruleset
where criteria.is_outlook
