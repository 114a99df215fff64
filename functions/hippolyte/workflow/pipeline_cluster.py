"""The EMR clusters of this stack: the pipelines' (the backup's exports, the restore's import) and the emr engine's."""

from __future__ import annotations

from hippolyte.emr_job_flows import EmrClusterSettings, idle_timeout_seconds
from hippolyte.pipelines import ClusterSettings
from hippolyte.runtime import Runtime


def cluster_settings(rt: Runtime) -> ClusterSettings:
    """The EMR cluster every pipeline of this stack gets."""
    s = rt.settings
    return ClusterSettings(
        region=rt.region,
        subnet_id=s.emr_subnet_id,
        release_label=s.emr_release_label,
        master_instance_type=s.emr_master_instance_type,
        core_instance_type=s.emr_core_instance_type,
        core_instance_count=s.emr_core_instance_count,
        jar=s.export_jar_for(rt.region),
        role=s.pipeline_role,
        resource_role=s.pipeline_resource_role,
        terminate_after_hours=int(s.window_hours) + 2,
    )


def emr_cluster_settings(rt: Runtime, poll_seconds: int) -> EmrClusterSettings:
    """The cluster every batch of the emr engine gets; it ends itself when idle for longer than a
    live run ever leaves it (two polls and a margin)."""
    s = rt.settings
    return EmrClusterSettings(
        release_label=s.emr_release_label,
        master_instance_type=s.emr_master_instance_type,
        core_instance_type=s.emr_core_instance_type,
        core_instance_count=s.emr_core_instance_count,
        subnet_id=s.emr_subnet_id,
        jar=s.export_jar_for(rt.region),
        service_role=s.emr_service_role,
        instance_profile=s.emr_instance_profile,
        idle_timeout_seconds=idle_timeout_seconds(poll_seconds),
    )
