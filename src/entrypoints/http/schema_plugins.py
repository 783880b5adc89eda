"""OpenAPI schema generation details Litestar leaves out, so that the document says exactly
what the server enforces."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.spec import OpenAPIType, Schema

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.typing import FieldDefinition


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """For msgspec structs: ``additionalProperties: false`` when the struct refuses unknown
    fields (``forbid_unknown_fields=True``: 422 ``validation_failed``), and the constraints
    of list items (``list[Annotated[str, Meta(pattern=…)]]``), which Litestar drops.

    Structs that do not refuse unknown fields are responses (every request body does), and
    responses carry every field, ``null`` when it has no value (docs/api.md): all their
    fields are ``required`` — unless the struct omits defaults (problem details, whose
    optional members are absent as RFC 9457 allows)."""

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        info = msgspec.inspect.type_info(field_definition.type_)
        if not isinstance(info, msgspec.inspect.StructType):
            return schema
        if info.forbid_unknown_fields:
            schema.additional_properties = False
        elif not info.cls.__struct_config__.omit_defaults:
            schema.required = sorted(field.encode_name for field in info.fields)
        for field in info.fields:
            constraints = _string_item_constraints(field.type)
            prop = (schema.properties or {}).get(field.encode_name)
            if constraints and isinstance(prop, Schema):
                for array in _array_schemas(prop):
                    if isinstance(array.items, Schema):
                        for name, value in constraints.items():
                            setattr(array.items, name, value)
        return schema


def _string_item_constraints(field_type: msgspec.inspect.Type) -> dict[str, Any]:
    """``pattern``/``min_length``/``max_length``/``description`` of the strings in a list
    field (optional or not), if it declares any."""
    for candidate in _unwrapped(field_type):
        if isinstance(candidate, msgspec.inspect.ListType):
            item = candidate.item_type
            described = (
                item.extra_json_schema if isinstance(item, msgspec.inspect.Metadata) else None
            )
            inner = item.type if isinstance(item, msgspec.inspect.Metadata) else item
            if not isinstance(inner, msgspec.inspect.StrType):
                return {}
            found = {
                "pattern": inner.pattern,
                "min_length": inner.min_length,
                "max_length": inner.max_length,
                "description": (described or {}).get("description"),
            }
            return {name: value for name, value in found.items() if value is not None}
    return {}


def _unwrapped(field_type: msgspec.inspect.Type) -> list[msgspec.inspect.Type]:
    if isinstance(field_type, msgspec.inspect.Metadata):
        return _unwrapped(field_type.type)
    if isinstance(field_type, msgspec.inspect.UnionType):
        return [t for member in field_type.types for t in _unwrapped(member)]
    return [field_type]


def _array_schemas(prop: Schema) -> list[Schema]:
    options = prop.one_of or [prop]
    return [s for s in options if isinstance(s, Schema) and s.type == OpenAPIType.ARRAY]
