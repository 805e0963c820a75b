"""The value-flow engine: one way to follow a value from where the client controls it to where it does harm,
inside a function, across the functions of a file, and across modules.

A rule declares a flow spec (`linter.flow.spec.FlowSpec`): which calls keep the value, which ones bound it
(barriers), and what a schema's field must say for the value to pass; the request inputs it starts from come
from the framework models (`linter.frameworks.request_inputs`). The rule finds its sinks with its own query and
asks the engine where each sink's value comes from (`FileFlow.reach`).

Per file (in a worker, cached with the file's results) the engine answers what one file shows and keeps a
summary (`linter.flow.summary.FlowSummary`) of its sinks for the rest:

- a sink whose value comes from the client in the same file is a finding of the rule, as before;
- a sink whose value comes from a parameter of a function other modules can call, from the result of a call
  into another module, or through a schema imported from another module is a `SinkRecord`;
- what the file passes to other modules' functions (`CallEdge`), what its functions return (`ReturnRecord`),
  what it exports (`ExportTable`) and the schemas it defines are read on demand by the project phase, from
  the few files on a path to a sink.

In the project phase (`linter.flow.project`) the summaries are joined along the import graph, to a bounded
depth: a client value passed into a parameter that reaches a sink is a cross-file finding, reported at the
sink, with the source in its message and a code flow through every file it passes. A per-file check never
reads another file; the join reads only summaries.
"""
