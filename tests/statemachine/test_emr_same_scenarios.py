"""The Data Pipeline engine's state-machine scenarios, run again on the emr engine.

pytest collects every test function in a module's namespace: the scenarios are imported from their
modules and run here with the ``stack_parameters`` fixture overridden, so each one deploys the
stack with ``Engine=emr``. What they assert (every table backed up or reported, capacity back as
it was, one message per outcome, a retried state changing nothing) holds for both engines. Left
out are the scenarios of Data Pipeline's own limits (its account pipeline limit and uniqueId
idempotency), which the emr engine meets with its own tests (test_emr_engine.py).
"""

from __future__ import annotations

import pytest

from tests.statemachine.fleet_support import TEST_PARAMETERS
from tests.statemachine.test_backup_run import (  # noqa: F401
    test_a_30_table_fleet_is_backed_up_and_every_file_matches_its_table,
    test_a_failed_pipeline_reports_its_table_failed_and_puts_capacity_back,
    test_a_lambda_that_raises_goes_through_restore_and_notification,
    test_a_manual_rerun_backs_up_only_the_named_table,
    test_bad_input_fails_at_the_first_state_naming_the_field_and_changes_nothing,
    test_the_slow_table_is_boosted_while_it_is_exported_and_put_back_after,
)
from tests.statemachine.test_capacity_faults import (  # noqa: F401
    test_a_pipeline_that_does_not_finish_in_the_window_is_stopped_at_the_deadline,
    test_a_run_retried_after_a_crash_never_records_a_boosted_value_as_original,
    test_a_second_run_never_touches_a_table_another_live_run_holds,
    test_a_table_deleted_mid_run_is_reported_not_crashed_on,
    test_a_table_switched_to_on_demand_mid_run_is_left_alone_and_reported,
    test_an_execution_stopped_mid_run_is_cleaned_up_by_reconcile,
    test_auto_scaled_on_demand_and_gsi_tables_end_as_they_were,
    test_decrease_limit_leaves_restore_pending_until_reconcile,
    test_each_state_failing_ends_with_capacity_restored_and_reported,
    test_reconcile_leaves_a_live_run_alone_when_it_cannot_tell_whether_the_run_lives,
    test_throttled_update_table_is_retried_and_reported,
    test_update_table_throttled_beyond_retries_leaves_the_table_unboosted_and_safe,
)
from tests.statemachine.test_retried_states import (  # noqa: F401
    test_a_backup_state_retried_after_its_work_ends_the_night_as_without_the_fault,
    test_the_failure_path_retried_after_its_work_restores_and_reports_once,
)


@pytest.fixture
def stack_parameters() -> dict[str, str]:
    """The stack on the emr engine."""
    return {**TEST_PARAMETERS, "Engine": "emr"}
