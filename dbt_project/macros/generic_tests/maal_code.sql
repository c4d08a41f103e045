{#- A MÅL code of the seed maal_codes (its one declaration) for `source`; NULL passes. -#}
{% test maal_code(model, column_name, source) %}
select *
from {{ model }}
where
    {{ column_name }} is not null
    and {{ column_name }} not in (
        select code from {{ ref('maal_codes') }}
        where source = '{{ source }}'
    )
{% endtest %}
