"""Coverage against the plan's targets (建标覆盖率与规划指标), for any date and region."""
