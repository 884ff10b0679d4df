"""``/api/v1/indicators`` and ``/api/v1/recorded-values``: the plan's targets and entered values."""
from __future__ import annotations

from flask.views import MethodView

from registry.api.core import IF_MATCH, Blueprint, actor, allowed, if_match, paginate, tagged
from registry.api.schemas import WithdrawSchema
from registry.audit.queries import history_query
from registry.audit.schemas import AuditEventSchema
from registry.auth.policy import ensure_can_withdraw, ensure_can_write
from registry.indicators.models import Indicator, RecordedValue
from registry.indicators.queries import indicators_query, recorded_values_query
from registry.indicators.schemas import (
    IndicatorCreateSchema,
    IndicatorQueryArgs,
    IndicatorSchema,
    IndicatorUpdateSchema,
    RecordedValueCreateSchema,
    RecordedValueQueryArgs,
    RecordedValueSchema,
    RecordedValueUpdateSchema,
)
from registry.indicators.services import create_indicator, record_value, update_indicator, update_recorded_value
from registry.services import get_or_404, withdraw

bp = Blueprint("indicators", __name__, url_prefix="/api/v1/indicators",
               description="Indicators of the plan and their targets")
values_bp = Blueprint("recorded_values", __name__, url_prefix="/api/v1/recorded-values",
                      description="Values entered for indicators no registry here counts")


@bp.route("")
class Indicators(MethodView):
    @bp.arguments(IndicatorQueryArgs, location="query")
    @bp.response(200, IndicatorSchema(many=True))
    @bp.paginate()
    def get(self, args, pagination_parameters):
        """List indicators"""
        return paginate(indicators_query(args, actor=actor()), pagination_parameters)

    @allowed(ensure_can_write, kind=Indicator)
    @bp.arguments(IndicatorCreateSchema)
    @bp.response(201, IndicatorSchema)
    def post(self, data):
        """Define an indicator (regulators, admins)"""
        return tagged(create_indicator(data, actor=actor()), 201)


@bp.route("/<string(maxlength=50):key>")
class IndicatorItem(MethodView):
    @bp.response(200, IndicatorSchema)
    def get(self, key):
        """Read an indicator"""
        return tagged(get_or_404(Indicator, key, actor=actor()))

    @allowed(ensure_can_write, record=Indicator)
    @bp.arguments(IndicatorUpdateSchema)
    @bp.response(200, IndicatorSchema)
    @bp.doc(parameters=[IF_MATCH])
    def patch(self, data, key):
        """Change an indicator's target, deadline or wording"""
        indicator = get_or_404(Indicator, key, actor=actor())
        return tagged(update_indicator(indicator, data, actor=actor(), expected_version=if_match()))


@bp.route("/<string(maxlength=50):key>/withdraw", methods=["POST"])
@allowed(ensure_can_withdraw, record=Indicator)
@bp.arguments(WithdrawSchema)
@bp.response(200, IndicatorSchema)
@bp.doc(parameters=[IF_MATCH])
def withdraw_indicator(data, key):
    """Withdraw an indicator"""
    indicator = get_or_404(Indicator, key, actor=actor())
    return tagged(withdraw(indicator, data["reason"], actor=actor(), expected_version=if_match()))


@bp.route("/<string(maxlength=50):key>/history")
@bp.response(200, AuditEventSchema(many=True))
@bp.paginate()
def indicator_history(key, pagination_parameters):
    """The audit trail of one indicator"""
    indicator = get_or_404(Indicator, key, actor=actor())
    return paginate(history_query(indicator), pagination_parameters)


@values_bp.route("")
class RecordedValues(MethodView):
    @values_bp.arguments(RecordedValueQueryArgs, location="query")
    @values_bp.response(200, RecordedValueSchema(many=True))
    @values_bp.paginate()
    def get(self, args, pagination_parameters):
        """List recorded values"""
        return paginate(recorded_values_query(args, actor=actor()), pagination_parameters)

    @allowed(ensure_can_write, kind=RecordedValue)
    @values_bp.arguments(RecordedValueCreateSchema)
    @values_bp.response(201, RecordedValueSchema)
    def post(self, data):
        """Record a value for a recorded indicator (regulators, admins)"""
        return tagged(record_value(data, actor=actor()), 201)


@values_bp.route("/<id:value_id>")
class RecordedValueItem(MethodView):
    @values_bp.response(200, RecordedValueSchema)
    def get(self, value_id):
        """Read a recorded value"""
        return tagged(get_or_404(RecordedValue, value_id, actor=actor()))

    @allowed(ensure_can_write, record=RecordedValue)
    @values_bp.arguments(RecordedValueUpdateSchema)
    @values_bp.response(200, RecordedValueSchema)
    @values_bp.doc(parameters=[IF_MATCH])
    def patch(self, data, value_id):
        """Correct a recorded value"""
        recorded = get_or_404(RecordedValue, value_id, actor=actor())
        return tagged(update_recorded_value(recorded, data, actor=actor(), expected_version=if_match()))


@values_bp.route("/<id:value_id>/withdraw", methods=["POST"])
@allowed(ensure_can_withdraw, record=RecordedValue)
@values_bp.arguments(WithdrawSchema)
@values_bp.response(200, RecordedValueSchema)
@values_bp.doc(parameters=[IF_MATCH])
def withdraw_recorded_value(data, value_id):
    """Withdraw a recorded value"""
    recorded = get_or_404(RecordedValue, value_id, actor=actor())
    return tagged(withdraw(recorded, data["reason"], actor=actor(), expected_version=if_match()))


@values_bp.route("/<id:value_id>/history")
@values_bp.response(200, AuditEventSchema(many=True))
@values_bp.paginate()
def recorded_value_history(value_id, pagination_parameters):
    """The audit trail of one recorded value"""
    recorded = get_or_404(RecordedValue, value_id, actor=actor())
    return paginate(history_query(recorded), pagination_parameters)
