{#- Primary-key test for composite keys (dbt_utils cannot be installed offline: dbt packages
    come from hub.getdbt.com, outside the reachable registries). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
select
    {{ combination_of_columns | join(', ') }},
    count(*) as n_records
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}
