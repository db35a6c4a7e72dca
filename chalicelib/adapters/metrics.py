"""Business metrics as CloudWatch embedded metric format (Powertools), one namespace."""
from __future__ import annotations

NAMESPACE = "micromall"


class EmfMetrics:
    """Each metric is flushed at once as one EMF line on stdout, which Lambda ships to
    CloudWatch; per-metric dimensions (result, gate) need single metrics, not a shared set."""

    def __init__(self, namespace: str = NAMESPACE) -> None:
        self.namespace = namespace

    def count(self, name: str, value: float = 1, unit: str = "Count", **dimensions: str) -> None:
        from aws_lambda_powertools.metrics import MetricUnit, single_metric

        with single_metric(name=name, unit=MetricUnit(unit), value=value, namespace=self.namespace) as metric:
            for key, dimension in dimensions.items():
                metric.add_dimension(name=key, value=str(dimension)[:250] or "-")
