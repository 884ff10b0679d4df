"""``/api/v1/regions`` and ``/api/v1/disciplines``: reference data, read-only."""
from __future__ import annotations

from registry.api.core import Blueprint, actor, paginate
from registry.reference.models import Discipline, Region
from registry.reference.queries import disciplines_query, regions_query
from registry.reference.schemas import DisciplineQueryArgs, DisciplineSchema, RegionQueryArgs, RegionSchema
from registry.records.services import get_or_404

regions_bp = Blueprint("regions", __name__, url_prefix="/api/v1/regions",
                       description="Administrative divisions (GB/T 2260), read-only")
disciplines_bp = Blueprint("disciplines", __name__, url_prefix="/api/v1/disciplines",
                           description="JJF 1022 disciplines and sectors, read-only")


@regions_bp.route("")
@regions_bp.arguments(RegionQueryArgs, location="query")
@regions_bp.response(200, RegionSchema(many=True))
@regions_bp.paginate()
@regions_bp.doc(operationId="listRegions")
def regions(args, pagination_parameters):
    """List regions"""
    return paginate(regions_query(args, actor=actor()), pagination_parameters)


@regions_bp.route("/<string(length=6):code>")
@regions_bp.response(200, RegionSchema)
@regions_bp.doc(operationId="getRegion")
def region(code):
    """Read a region"""
    return get_or_404(Region, code, actor=actor())


@disciplines_bp.route("")
@disciplines_bp.arguments(DisciplineQueryArgs, location="query")
@disciplines_bp.response(200, DisciplineSchema(many=True))
@disciplines_bp.paginate()
@disciplines_bp.doc(operationId="listDisciplines")
def disciplines(args, pagination_parameters):
    """List disciplines and sectors"""
    return paginate(disciplines_query(args, actor=actor()), pagination_parameters)


@disciplines_bp.route("/<string(length=2):code>")
@disciplines_bp.response(200, DisciplineSchema)
@disciplines_bp.doc(operationId="getDiscipline")
def discipline(code):
    """Read a discipline or sector"""
    return get_or_404(Discipline, code, actor=actor())
