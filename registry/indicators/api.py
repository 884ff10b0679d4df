"""``/api/v1/indicators`` and ``/api/v1/recorded-values``: the plan's targets and entered values."""
from __future__ import annotations

from flask.views import MethodView

from registry.api.core import IF_MATCH, Blueprint, actor, allowed, if_match, paginate, tagged
from registry.api.schemas import WithdrawSchema
from registry.audit.queries import history_query
from registry.audit.schemas import AuditEventSchema
from registry.auth.policy import ensure_can_withdraw, ensure_can_write
from registry.indicators.models import Indicator, Plan, PlanTarget, RecordedValue
from registry.indicators.queries import indicators_query, plans_query, recorded_values_query, targets_query
from registry.indicators.schemas import (
    IndicatorCreateSchema,
    IndicatorQueryArgs,
    IndicatorSchema,
    IndicatorUpdateSchema,
    PlanCreateSchema,
    PlanQueryArgs,
    PlanSchema,
    PlanUpdateSchema,
    RecordedValueCreateSchema,
    RecordedValueQueryArgs,
    RecordedValueSchema,
    RecordedValueUpdateSchema,
    TargetCreateSchema,
    TargetQueryArgs,
    TargetSchema,
    TargetUpdateSchema,
)
from registry.indicators.services import (
    create_indicator,
    create_plan,
    create_target,
    record_value,
    update_indicator,
    update_plan,
    update_recorded_value,
    update_target,
)
from registry.records.services import get_or_404, withdraw

bp = Blueprint("indicators", __name__, url_prefix="/api/v1/indicators",
               description="Indicators of the plan and their targets")
plans_bp = Blueprint("plans", __name__, url_prefix="/api/v1/plans",
                     description="Plans (规划): a period, a deadline and the targets due by it")
targets_bp = Blueprint("targets", __name__, url_prefix="/api/v1/targets",
                       description="Targets of a plan, for the province or a city")
values_bp = Blueprint("recorded_values", __name__, url_prefix="/api/v1/recorded-values",
                      description="Values entered for indicators no registry here counts")


@bp.route("")
class Indicators(MethodView):
    @bp.arguments(IndicatorQueryArgs, location="query")
    @bp.response(200, IndicatorSchema(many=True))
    @bp.paginate()
    @bp.doc(operationId="listIndicators")
    def get(self, args, pagination_parameters):
        """List indicators"""
        return paginate(indicators_query(args, actor=actor()), pagination_parameters)

    @allowed(ensure_can_write, kind=Indicator)
    @bp.arguments(IndicatorCreateSchema)
    @bp.response(201, IndicatorSchema)
    @bp.doc(operationId="createIndicator")
    def post(self, data):
        """Define an indicator (regulators, admins)"""
        return tagged(create_indicator(data, actor=actor()), 201)


@bp.route("/<string(maxlength=50):key>")
class IndicatorItem(MethodView):
    @bp.response(200, IndicatorSchema)
    @bp.doc(operationId="getIndicator")
    def get(self, key):
        """Read an indicator"""
        return tagged(get_or_404(Indicator, key, actor=actor()))

    @allowed(ensure_can_write, record=Indicator)
    @bp.arguments(IndicatorUpdateSchema)
    @bp.response(200, IndicatorSchema)
    @bp.doc(parameters=[IF_MATCH])
    @bp.doc(operationId="updateIndicator")
    def patch(self, data, key):
        """Change an indicator's wording or how it is counted"""
        indicator = get_or_404(Indicator, key, actor=actor())
        return tagged(update_indicator(indicator, data, actor=actor(), expected_version=if_match()))


@bp.route("/<string(maxlength=50):key>/withdraw", methods=["POST"])
@allowed(ensure_can_withdraw, record=Indicator)
@bp.arguments(WithdrawSchema)
@bp.response(200, IndicatorSchema)
@bp.doc(parameters=[IF_MATCH])
@bp.doc(operationId="withdrawIndicator")
def withdraw_indicator(data, key):
    """Withdraw an indicator"""
    indicator = get_or_404(Indicator, key, actor=actor())
    return tagged(withdraw(indicator, data["reason"], actor=actor(), expected_version=if_match()))


@bp.route("/<string(maxlength=50):key>/history")
@bp.response(200, AuditEventSchema(many=True))
@bp.paginate()
@bp.doc(operationId="getIndicatorHistory")
def indicator_history(key, pagination_parameters):
    """The audit trail of one indicator"""
    indicator = get_or_404(Indicator, key, actor=actor())
    return paginate(history_query(indicator), pagination_parameters)


@values_bp.route("")
class RecordedValues(MethodView):
    @values_bp.arguments(RecordedValueQueryArgs, location="query")
    @values_bp.response(200, RecordedValueSchema(many=True))
    @values_bp.paginate()
    @values_bp.doc(operationId="listRecordedValues")
    def get(self, args, pagination_parameters):
        """List recorded values"""
        return paginate(recorded_values_query(args, actor=actor()), pagination_parameters)

    @allowed(ensure_can_write, kind=RecordedValue)
    @values_bp.arguments(RecordedValueCreateSchema)
    @values_bp.response(201, RecordedValueSchema)
    @values_bp.doc(operationId="createRecordedValue")
    def post(self, data):
        """Record a value for a recorded indicator (regulators, admins)"""
        return tagged(record_value(data, actor=actor()), 201)


@values_bp.route("/<id:value_id>")
class RecordedValueItem(MethodView):
    @values_bp.response(200, RecordedValueSchema)
    @values_bp.doc(operationId="getRecordedValue")
    def get(self, value_id):
        """Read a recorded value"""
        return tagged(get_or_404(RecordedValue, value_id, actor=actor()))

    @allowed(ensure_can_write, record=RecordedValue)
    @values_bp.arguments(RecordedValueUpdateSchema)
    @values_bp.response(200, RecordedValueSchema)
    @values_bp.doc(parameters=[IF_MATCH])
    @values_bp.doc(operationId="updateRecordedValue")
    def patch(self, data, value_id):
        """Correct a recorded value"""
        recorded = get_or_404(RecordedValue, value_id, actor=actor())
        return tagged(update_recorded_value(recorded, data, actor=actor(), expected_version=if_match()))


@values_bp.route("/<id:value_id>/withdraw", methods=["POST"])
@allowed(ensure_can_withdraw, record=RecordedValue)
@values_bp.arguments(WithdrawSchema)
@values_bp.response(200, RecordedValueSchema)
@values_bp.doc(parameters=[IF_MATCH])
@values_bp.doc(operationId="withdrawRecordedValue")
def withdraw_recorded_value(data, value_id):
    """Withdraw a recorded value"""
    recorded = get_or_404(RecordedValue, value_id, actor=actor())
    return tagged(withdraw(recorded, data["reason"], actor=actor(), expected_version=if_match()))


@values_bp.route("/<id:value_id>/history")
@values_bp.response(200, AuditEventSchema(many=True))
@values_bp.paginate()
@values_bp.doc(operationId="getRecordedValueHistory")
def recorded_value_history(value_id, pagination_parameters):
    """The audit trail of one recorded value"""
    recorded = get_or_404(RecordedValue, value_id, actor=actor())
    return paginate(history_query(recorded), pagination_parameters)


def _record_routes(bp: Blueprint, model: type, schema: type, update_schema: type, update: callable,
                   what: str, param: str) -> None:
    """Read, change, withdraw and history of one record: the same four routes for plans and targets."""
    name = what.title()  # getPlan, updatePlan, withdrawPlan, getPlanHistory

    @bp.route(f"/<id:{param}>")
    class Item(MethodView):
        @bp.response(200, schema)
        @bp.doc(summary=f"Read a {what}", operationId=f"get{name}")
        def get(self, **ids):
            return tagged(get_or_404(model, ids[param], actor=actor()))

        @allowed(ensure_can_write, record=model)
        @bp.arguments(update_schema)
        @bp.response(200, schema)
        @bp.doc(parameters=[IF_MATCH], summary=f"Change a {what}", operationId=f"update{name}")
        def patch(self, data, **ids):
            record = get_or_404(model, ids[param], actor=actor())
            return tagged(update(record, data, actor=actor(), expected_version=if_match()))

    @bp.route(f"/<id:{param}>/withdraw", methods=["POST"], endpoint="withdraw")
    @allowed(ensure_can_withdraw, record=model)
    @bp.arguments(WithdrawSchema)
    @bp.response(200, schema)
    @bp.doc(parameters=[IF_MATCH], summary=f"Withdraw a {what}", operationId=f"withdraw{name}")
    def withdraw_record(data, **ids):
        record = get_or_404(model, ids[param], actor=actor())
        return tagged(withdraw(record, data["reason"], actor=actor(), expected_version=if_match()))

    @bp.route(f"/<id:{param}>/history", endpoint="history")
    @bp.response(200, AuditEventSchema(many=True))
    @bp.paginate()
    @bp.doc(summary=f"The audit trail of one {what}", operationId=f"get{name}History")
    def record_history(pagination_parameters, **ids):
        record = get_or_404(model, ids[param], actor=actor())
        return paginate(history_query(record), pagination_parameters)


@plans_bp.route("")
class Plans(MethodView):
    @plans_bp.arguments(PlanQueryArgs, location="query")
    @plans_bp.response(200, PlanSchema(many=True))
    @plans_bp.paginate()
    @plans_bp.doc(operationId="listPlans")
    def get(self, args, pagination_parameters):
        """List plans"""
        return paginate(plans_query(args, actor=actor()), pagination_parameters)

    @allowed(ensure_can_write, kind=Plan)
    @plans_bp.arguments(PlanCreateSchema)
    @plans_bp.response(201, PlanSchema)
    @plans_bp.doc(operationId="createPlan")
    def post(self, data):
        """Add a plan (regulators, admins); its period may not overlap another's"""
        return tagged(create_plan(data, actor=actor()), 201)


@targets_bp.route("")
class Targets(MethodView):
    @targets_bp.arguments(TargetQueryArgs, location="query")
    @targets_bp.response(200, TargetSchema(many=True))
    @targets_bp.paginate()
    @targets_bp.doc(operationId="listTargets")
    def get(self, args, pagination_parameters):
        """List targets"""
        return paginate(targets_query(args, actor=actor()), pagination_parameters)

    @allowed(ensure_can_write, kind=PlanTarget)
    @targets_bp.arguments(TargetCreateSchema)
    @targets_bp.response(201, TargetSchema)
    @targets_bp.doc(operationId="createTarget")
    def post(self, data):
        """Set a target in a plan for the province or a city (regulators, admins)"""
        return tagged(create_target(data, actor=actor()), 201)


_record_routes(plans_bp, Plan, PlanSchema, PlanUpdateSchema, update_plan, "plan", "plan_id")
_record_routes(targets_bp, PlanTarget, TargetSchema, TargetUpdateSchema, update_target, "target", "target_id")
