{#- An empty model fails (one row when the model has none): a mart the report and BI read must
    never come out empty. -#}
{% test has_rows(model) %}
select 1 as no_rows
where not exists (select 1 from {{ model }})
{% endtest %}
