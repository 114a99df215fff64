"""The EMR cluster of this stack's pipelines: the backup's export pipelines and the restore's import pipeline."""

from __future__ import annotations

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
