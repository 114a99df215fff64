"""Reading ``template.yaml`` with its CloudFormation tags, and resolving the values we need.

Only what the local run needs is resolved: ``!Ref`` to parameters and resources, ``!GetAtt``,
``!Sub`` with ``${Name}``/``${AWS::...}``, ``!Join`` and ``!If``-free values. Anything else is an
error, so a template change the local run cannot follow is noticed, not silently ignored.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml


class CfnTag:
    """A CloudFormation short-form function (``!Ref x`` becomes ``CfnTag("Ref", "x")``)."""

    def __init__(self, name: str, value: Any) -> None:
        self.name, self.value = name, value

    def __repr__(self) -> str:
        return f"!{self.name} {self.value!r}"


class _Loader(yaml.SafeLoader):
    pass


def _construct(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> CfnTag:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return CfnTag(suffix, value)


_Loader.add_multi_constructor("!", _construct)


def load_template(path: Path) -> dict[str, Any]:
    """Parse a SAM/CloudFormation YAML template."""
    return yaml.load(path.read_text(), Loader=_Loader)


class Resolver:
    """Resolves intrinsic functions against parameter values and created resources."""

    def __init__(
        self, parameters: dict[str, Any], refs: dict[str, str], attributes: dict[str, str], pseudo: dict[str, str]
    ) -> None:
        self.parameters, self.refs, self.attributes, self.pseudo = parameters, refs, attributes, pseudo

    def ref(self, name: str) -> str:
        """The value of ``!Ref name``."""
        for table in (self.pseudo, self.parameters, self.refs):
            if name in table:
                return table[name]
        raise KeyError(f"template.yaml: !Ref {name} cannot be resolved locally")

    def resolve(self, value: Any) -> Any:
        """Resolve a template value to plain data."""
        if isinstance(value, CfnTag):
            return self._function(value.name, value.value)
        if isinstance(value, dict) and len(value) == 1:
            ((key, inner),) = value.items()
            if key == "Ref" or key.startswith("Fn::"):
                return self._function(key.removeprefix("Fn::"), inner)
        if isinstance(value, dict):
            return {key: self.resolve(inner) for key, inner in value.items()}
        if isinstance(value, list):
            return [self.resolve(inner) for inner in value]
        return value

    def _function(self, name: str, value: Any) -> Any:
        if name == "Ref":
            return self.ref(value)
        if name == "GetAtt":
            key = value if isinstance(value, str) else ".".join(value)
            if key not in self.attributes:
                raise KeyError(f"template.yaml: !GetAtt {key} cannot be resolved locally")
            return self.attributes[key]
        if name == "Sub":
            return re.sub(r"\$\{([^}]+)\}", lambda m: self._sub_name(m.group(1)), value)
        if name == "Join":
            separator, items = value
            resolved = self.resolve(items)
            return separator.join(resolved if isinstance(resolved, list) else [resolved])
        raise KeyError(f"template.yaml: !{name} is not supported by the local run")

    def _sub_name(self, name: str) -> str:
        if "." in name:
            return str(self._function("GetAtt", name))
        return self.ref(name)
