"""Every rule of LDSO.md marked [V: name] must have a scenario of that name.
A marker may list several names; "…suffix" continues the previous name."""
import re

MARKER = re.compile(r"\[V: ([^\]]*)\]")
TEMPLATE = "name"  # the marker the specification uses to explain markers


def spec_names(text):
    names = []
    for match in MARKER.finditer(text):
        previous = ""
        for raw in match.group(1).split(","):
            name = " ".join(raw.split())
            if name.startswith("…"):
                name = previous + name[1:]
            if name != TEMPLATE:
                names.append(name)
            previous = name
    return names


def missing_scenarios(spec_path, scenario_names):
    with open(spec_path, encoding="utf-8") as f:
        names = spec_names(f.read())
    if not names:
        return ["%s has no [V: name] markers" % spec_path]
    return ["no scenario for [V: %s]" % n for n in names if n not in scenario_names]
