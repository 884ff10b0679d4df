"""``/api/v1/personnel``: the staff roster and registered metrologists (注册计量师)."""
from __future__ import annotations

from flask.views import MethodView

from registry.api.core import IF_MATCH, Blueprint, actor, allowed, if_match, paginate, tagged
from registry.api.schemas import WithdrawSchema
from registry.audit.queries import history_query
from registry.audit.schemas import AuditEventSchema
from registry.auth.policy import ensure_can_read, ensure_can_withdraw, ensure_can_write
from registry.personnel.models import Person
from registry.personnel.queries import persons_query
from registry.personnel.schemas import PersonCreateSchema, PersonQueryArgs, PersonSchema, PersonUpdateSchema
from registry.personnel.services import add_person, update_person
from registry.records.services import get_or_404, withdraw

bp = Blueprint("personnel", __name__, url_prefix="/api/v1/personnel",
               description="Technical staff and their registrations (注册计量师)")


@bp.route("")
class Personnel(MethodView):
    @bp.arguments(PersonQueryArgs, location="query")
    @bp.response(200, PersonSchema(many=True))
    @bp.paginate()
    @bp.doc(operationId="listPersonnel")
    def get(self, args, pagination_parameters):
        """List staff"""
        return paginate(persons_query(args, actor=actor()), pagination_parameters)

    @allowed(ensure_can_write, kind=Person)
    @bp.arguments(PersonCreateSchema)
    @bp.response(201, PersonSchema)
    @bp.doc(operationId="createPerson")
    def post(self, data):
        """Add a member of staff"""
        return tagged(add_person(data, actor=actor()), 201)


@bp.route("/<id:person_id>")
class PersonItem(MethodView):
    @bp.response(200, PersonSchema)
    @bp.doc(operationId="getPerson")
    def get(self, person_id):
        """Read a member of staff"""
        return tagged(get_or_404(Person, person_id, actor=actor()))

    @allowed(ensure_can_write, record=Person)
    @bp.arguments(PersonUpdateSchema)
    @bp.response(200, PersonSchema)
    @bp.doc(parameters=[IF_MATCH])
    @bp.doc(operationId="updatePerson")
    def patch(self, data, person_id):
        """Change a member of staff or their registration"""
        person = get_or_404(Person, person_id, actor=actor())
        return tagged(update_person(person, data, actor=actor(), expected_version=if_match()))


@bp.route("/<id:person_id>/withdraw", methods=["POST"])
@allowed(ensure_can_withdraw, record=Person)
@bp.arguments(WithdrawSchema)
@bp.response(200, PersonSchema)
@bp.doc(parameters=[IF_MATCH])
@bp.doc(operationId="withdrawPerson")
def withdraw_person(data, person_id):
    """Withdraw a roster entry (leaving employment is employed_until, not a withdrawal)"""
    person = get_or_404(Person, person_id, actor=actor())
    return tagged(withdraw(person, data["reason"], actor=actor(), expected_version=if_match()))


@bp.route("/<id:person_id>/history")
@allowed(ensure_can_read, record=Person)
@bp.response(200, AuditEventSchema(many=True))
@bp.paginate()
@bp.doc(operationId="getPersonHistory")
def person_history(person_id, pagination_parameters):
    """The audit trail of one member of staff"""
    person = get_or_404(Person, person_id, actor=actor())
    return paginate(history_query(person), pagination_parameters)
