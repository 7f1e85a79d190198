"""Planning tools for lab managers: a sequencing run planner and a national capacity model.

* :mod:`genomflow.plan.model`: the instrument park and the pending samples (typed records,
  loaded from YAML and TSV and checked against JSON Schemas), and the read model that turns
  a required depth into read pairs.
* :mod:`genomflow.plan.runs`: the run planner: classes, parts, lane packing, checks.
* :mod:`genomflow.plan.milp`: its integer programs, built with PuLP and solved with CBC.
* :mod:`genomflow.plan.files`: YAML with schema defaults and line numbers, TSV reading,
  atomic writes.
* :mod:`genomflow.plan.output`: the plan tables and one sample sheet per run.
* :mod:`genomflow.plan.capacity`: CPU, storage and database rows per year and centre.
* :mod:`genomflow.plan.cli`: ``genomflow plan runs`` and ``genomflow plan capacity``.

See ``docs/planning.md``.
"""
