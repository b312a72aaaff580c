"""Writes github-subset.json: the operations of GitHub's published REST API description
that the function uses, with what a request may carry (path, method, query parameters,
JSON body), from the npm package @octokit/openapi.

    npm install --prefix /tmp/octokit-openapi @octokit/openapi@23.0.2
    python3 tests/openapi/extract.py /tmp/octokit-openapi/node_modules/@octokit/openapi
"""
import json
import sys

OPERATIONS = [
    ("get", "/user"),
    ("get", "/app"),
    ("get", "/users/{username}"),
    ("get", "/repos/{owner}/{repo}/installation"),
    ("post", "/app/installations/{installation_id}/access_tokens"),
    ("get", "/repos/{owner}/{repo}/issues"),
    ("post", "/repos/{owner}/{repo}/issues"),
    ("get", "/repos/{owner}/{repo}/issues/comments"),
    ("get", "/repos/{owner}/{repo}/issues/events"),
    ("get", "/repos/{owner}/{repo}/issues/{issue_number}"),
    ("patch", "/repos/{owner}/{repo}/issues/{issue_number}"),
    ("get", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("post", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("post", "/repos/{owner}/{repo}/issues/{issue_number}/assignees"),
    ("get", "/repos/{owner}/{repo}/issues/{issue_number}/events"),
    ("get", "/repos/{owner}/{repo}/compare/{basehead}"),
    ("get", "/repos/{owner}/{repo}/commits/{ref}"),
    ("get", "/orgs/{org}/teams/{team_slug}/memberships/{username}"),
    ("get", "/repos/{owner}/{repo}/collaborators/{username}/permission"),
]


def schema(s, depth=0):
    """What a value may be: types, enum, items, object properties."""
    if not isinstance(s, dict) or depth > 4:
        return {}
    out = {}
    for alt in ("oneOf", "anyOf"):
        if alt in s:
            out["anyOf"] = [schema(a, depth + 1) for a in s[alt]]
    t = s.get("type")
    if t is not None:
        out["type"] = t if isinstance(t, list) else [t]
        if s.get("nullable"):
            out["type"].append("null")
    if "enum" in s:
        out["enum"] = s["enum"]
    if "items" in s:
        out["items"] = schema(s["items"], depth + 1)
    if "properties" in s:
        out["properties"] = {k: schema(v, depth + 1) for k, v in s["properties"].items()}
        out["required"] = s.get("required", [])
        out["additionalProperties"] = s.get("additionalProperties", True) is not False
    return out


def main(package):
    meta = json.load(open(f"{package}/package.json"))
    api = json.load(open(f"{package}/generated/api.github.com.deref.json"))
    ops = []
    for method, path in OPERATIONS:
        op = api["paths"][path][method]
        params = op.get("parameters", []) + api["paths"][path].get("parameters", [])
        body = (
            op.get("requestBody", {})
            .get("content", {})
            .get("application/json", {})
            .get("schema")
        )
        ops.append(
            {
                "method": method.upper(),
                "path": path,
                "operationId": op["operationId"],
                "query": {
                    p["name"]: {"required": p.get("required", False), **schema(p.get("schema", {}))}
                    for p in params
                    if p["in"] == "query"
                },
                "body": schema(body) if body else None,
            }
        )
    out = {
        "source": f"npm {meta['name']}@{meta['version']} ({meta['license']}), generated/api.github.com.deref.json",
        "operations": ops,
    }
    json.dump(out, open("tests/openapi/github-subset.json", "w"), indent=1, sort_keys=True)
    print(f"{len(ops)} operations from {out['source']}")


main(sys.argv[1])
