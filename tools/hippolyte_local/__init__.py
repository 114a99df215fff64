"""The local run: Hippolyte's real state machine and handlers against in-memory AWS (moto).

Nothing here is deployed. It needs the ``local`` extra (moto, pinned exactly, because the hooks
below reach into its internals; see each module). Pieces:

* :mod:`~hippolyte_local.template` reads ``template.yaml`` as CloudFormation would;
* :mod:`~hippolyte_local.stack` creates the stack's resources, functions and state machine in moto;
* :mod:`~hippolyte_local.cloudformation` answers DescribeStacks for it (the CLI reads its outputs);
* :mod:`~hippolyte_local.lambda_runtime` makes moto's Lambda run our handlers in-process;
* :mod:`~hippolyte_local.emr` plays the EMR clusters: it runs the activities of every activated
  pipeline from its definition and writes the export tool's files;
* :mod:`~hippolyte_local.pipeline_runs` gives moto Data Pipeline's run side: the instances an
  activation creates, their statuses (QueryObjects, DescribeObjects), the pipeline's health, and
  the re-run a second activation causes;
* :mod:`~hippolyte_local.native_export` plays DynamoDB's ExportTableToPointInTime, writing AWS's
  export layout (moto's writes no manifests);
* :mod:`~hippolyte_local.table_sizes` gives moto's tables the size of the items they hold;
* :mod:`~hippolyte_local.fleet` and :mod:`~hippolyte_local.demo` build and run the demo.
"""
