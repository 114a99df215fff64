"""The stack's configuration: SAM parameters, passed to every Lambda as environment variables.

One model holds them all, so that a bad parameter (a regex that does not compile, a percentage
outside 0.1-1, a negative window) is rejected by the first state with a message naming the parameter,
before anything in the account changes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hippolyte.errors import ConfigurationError
from hippolyte.models import (
    DEFAULT_MAX_EXTRA_RCU,
    MIN_READ_THROUGHPUT_PERCENT,
    PlannerSettings,
    Prices,
    ReadPercent,
    StackEngine,
    first_error,
)


def _split(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class StackSettings(BaseModel):
    """Every setting, named by its environment variable (the SAM parameter in the README)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    backup_bucket: str = Field(alias="BACKUP_BUCKET", min_length=3)
    topic_arn: str = Field(default="", alias="TOPIC_ARN")
    ledger_table: str = Field(default="", alias="LEDGER_TABLE")
    stage: str = Field(default="dev", alias="STAGE")
    exclude_patterns: list[str] = Field(default_factory=list, alias="EXCLUDE_PATTERNS")
    always_backup: list[str] = Field(default_factory=list, alias="ALWAYS_BACKUP")
    window_hours: Annotated[float, Field(gt=0, le=24)] = Field(default=7.0, alias="WINDOW_HOURS")
    # A table whose newest verified backup is older than this counts in TablesWithoutFreshBackup.
    freshness_hours: Annotated[float, Field(gt=0, le=24 * 31)] = Field(default=26.0, alias="FRESHNESS_HOURS")
    # Empty: the bucket's default encryption; else native exports are written with this key too.
    kms_key_arn: str = Field(default="", alias="KMS_KEY_ARN")
    # readThroughputPercent's range (AWS Data Pipeline Developer Guide, DynamoDBDataNode).
    read_throughput_percent: ReadPercent = Field(default=0.5, alias="READ_THROUGHPUT_PERCENT")
    on_demand_read_throughput_percent: ReadPercent = Field(
        default=MIN_READ_THROUGHPUT_PERCENT, alias="ON_DEMAND_READ_THROUGHPUT_PERCENT"
    )
    max_tables_per_pipeline: Annotated[int, Field(ge=1, le=32)] = Field(default=32, alias="MAX_TABLES_PER_PIPELINE")
    max_concurrent_pipelines: Annotated[int, Field(ge=1)] = Field(default=100, alias="MAX_CONCURRENT_PIPELINES")
    # Empty: derived from DescribeLimits (account max minus what is provisioned).
    max_extra_rcu: Annotated[int, Field(ge=0)] | None = Field(default=None, alias="MAX_EXTRA_RCU")
    # auto: the emr engine or the native export, whichever costs less for each table tonight
    # (Data Pipeline, closed to new customers, only where a stack or a table asks for it).
    engine: StackEngine = Field(default="auto", alias="ENGINE")
    enable_pitr: bool = Field(default=False, alias="ENABLE_PITR")
    emr_subnet_id: str = Field(default="", alias="EMR_SUBNET_ID")
    # 5.36.2, the last 5.x release: it has the auto-termination policy the emr engine gives its
    # clusters (from 5.30.0) and the Hadoop 2 the export tool 4.11.0 was built for.
    emr_release_label: str = Field(default="emr-5.36.2", alias="EMR_RELEASE_LABEL")
    emr_master_instance_type: str = Field(default="m5.xlarge", alias="EMR_MASTER_INSTANCE_TYPE")
    emr_core_instance_type: str = Field(default="m5.xlarge", alias="EMR_CORE_INSTANCE_TYPE")
    emr_core_instance_count: Annotated[int, Field(ge=1)] = Field(default=1, alias="EMR_CORE_INSTANCE_COUNT")
    # Empty: the jar AWS's own console template uses in the stack's region.
    export_jar: str = Field(default="", alias="EXPORT_JAR")
    # The emr engine's clusters: EMR's service role and the instance profile of their nodes.
    emr_service_role: str = Field(default="EMR_DefaultRole", alias="EMR_SERVICE_ROLE")
    emr_instance_profile: str = Field(default="EMR_EC2_DefaultRole", alias="EMR_INSTANCE_PROFILE")
    pipeline_role: str = Field(default="DataPipelineDefaultRole", alias="PIPELINE_ROLE")
    pipeline_resource_role: str = Field(default="DataPipelineDefaultResourceRole", alias="PIPELINE_RESOURCE_ROLE")
    rcu_hour_usd: Annotated[float, Field(ge=0)] = Field(default=0.00013, alias="RCU_HOUR_USD")
    on_demand_read_million_usd: Annotated[float, Field(ge=0)] = Field(
        default=Prices().on_demand_read_million_usd, alias="ON_DEMAND_READ_MILLION_USD"
    )
    instance_hour_usd: Annotated[float, Field(ge=0)] = Field(default=0.240, alias="INSTANCE_HOUR_USD")

    @field_validator("exclude_patterns", "always_backup", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        return _split(value)

    @field_validator("max_extra_rcu", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value in ("", None) else value

    @field_validator("exclude_patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"{pattern!r} is not a valid regular expression ({error})") from None
        return patterns

    @property
    def window_seconds(self) -> int:
        """Length of the backup window in seconds."""
        return int(self.window_hours * 3600)

    def export_jar_for(self, region: str) -> str:
        """The EMR DynamoDB export tool's jar: the configured one, or AWS's template's for the region."""
        return self.export_jar or (
            f"s3://dynamodb-dpl-{region}/emr-ddb-storage-handler/4.11.0/"
            "emr-dynamodb-tools-4.11.0-SNAPSHOT-jar-with-dependencies.jar"
        )

    def planner_settings(
        self, max_extra_rcu: int = DEFAULT_MAX_EXTRA_RCU, table_max_rcu: int = 40_000
    ) -> PlannerSettings:
        """The planner's knobs for this stack."""
        return PlannerSettings(
            window_seconds=self.window_seconds,
            read_throughput_percent=self.read_throughput_percent,
            on_demand_read_throughput_percent=self.on_demand_read_throughput_percent,
            max_tables_per_pipeline=self.max_tables_per_pipeline,
            max_concurrent_pipelines=self.max_concurrent_pipelines,
            max_extra_rcu=max_extra_rcu,
            table_max_rcu=table_max_rcu,
            prices=Prices(
                rcu_hour_usd=self.rcu_hour_usd,
                on_demand_read_million_usd=self.on_demand_read_million_usd,
                instance_hour_usd=self.instance_hour_usd,
                instances_per_cluster=1 + self.emr_core_instance_count,
            ),
        )


def load_settings(environ: Mapping[str, str] | None = None) -> StackSettings:
    """Read and validate the settings; a bad value raises ConfigurationError naming it."""
    environ = os.environ if environ is None else environ
    try:
        return StackSettings.model_validate(dict(environ))
    except ValidationError as error:
        name, message = first_error(error)
        raise ConfigurationError(f"configuration {name}: {message}") from None
