"""Request and response shapes of the machine API, in the JSON field names miactl sends and reads."""

from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def text(max_length: int, *, min_length: int = 0):
    """A JSON string of bounded length without NUL (which PostgreSQL cannot store)."""
    return Annotated[
        str,
        StringConstraints(strict=True, min_length=min_length, max_length=max_length),
        AfterValidator(_no_nul),
    ]


RoleText = text(64)
IdText = text(200, min_length=1)
Email = text(254, min_length=1)
Name = text(150, min_length=1)
MAX_ITEMS = 1000


class Input(BaseModel):
    model_config = ConfigDict(extra="ignore")


# -- errors and acknowledgements ---------------------------------------------------------------------


class Error(BaseModel):
    statusCode: int = Field(examples=[404])
    message: str = Field(examples=["No user 42 in company acme."])


class Done(BaseModel):
    statusCode: Literal[200] = 200
    message: str = Field(examples=["identity roles successfully updated"])


# -- identities --------------------------------------------------------------------------------------


class EnvironmentRoles(BaseModel):
    envId: str
    roles: list[str]
    until: str | None = Field(description="When this time-limited role ends (RFC 3339); null when it lasts.")


class ProjectRoles(BaseModel):
    id: str = Field(alias="_id", description="The project id (slug).")
    roles: list[str] = Field(description="The identity's own project role (empty when it has none).")
    until: str | None = Field(description="When this time-limited role ends (RFC 3339); null when it lasts.")
    environments: list[EnvironmentRoles]


class IAMIdentity(BaseModel):
    identityId: str = Field(description="userId, group _id or service account clientId.")
    name: str
    identityType: Literal["user", "group", "serviceaccount"]
    companyRoles: list[str] = Field(description="Direct company roles (empty when access comes from groups).")
    until: str | None = Field(description="When this time-limited role ends (RFC 3339); null when it lasts.")
    projects: list[ProjectRoles] = Field(description="Filled for the projects named in projectIds only.")


class UserGroup(BaseModel):
    id: str = Field(alias="_id")
    name: str
    role: str = Field(description="The group's company role id ('' when it has none).")
    roleId: str
    until: str | None = Field(description="When this time-limited role ends (RFC 3339); null when it lasts.")


class UserIdentity(BaseModel):
    userId: str
    email: str
    fullname: str
    name: str
    companyRoles: list[str]
    until: str | None = Field(description="When this time-limited role ends (RFC 3339); null when it lasts.")
    lastLogin: str = Field(description="RFC 3339, or '' when the user never signed in.")
    groups: list[UserGroup]


class GroupMember(BaseModel):
    userId: str
    email: str
    fullname: str
    name: str


class GroupIdentity(BaseModel):
    id: str = Field(alias="_id")
    name: str
    role: str
    roleId: str
    until: str | None = Field(description="When this time-limited role ends (RFC 3339); null when it lasts.")
    members: list[GroupMember]


class ServiceAccountIdentity(BaseModel):
    clientId: str
    name: str
    authMethod: Literal["client_secret_basic", "private_key_jwt"]
    companyRoles: list[str]
    until: str | None = Field(description="When this time-limited role ends (RFC 3339); null when it lasts.")
    lastLogin: str


# -- writes ------------------------------------------------------------------------------------------


class UserAdd(Input):
    email: Email
    role: RoleText


class GroupCreate(Input):
    name: Name
    role: RoleText
    members: list[Email] = Field(default_factory=list, max_length=MAX_ITEMS, description="Emails.")


class GroupMembersAdd(Input):
    emails: list[Email] = Field(min_length=1, max_length=MAX_ITEMS)


class GroupMembersRemove(Input):
    memberIds: list[IdText] = Field(min_length=1, max_length=MAX_ITEMS, description="userId values.")


class PublicJWK(Input):
    model_config = ConfigDict(extra="allow")
    kty: text(16)
    n: text(4096, min_length=1)
    e: text(16, min_length=1)
    kid: text(200) | None = None
    use: text(16) | None = None
    alg: text(16) | None = None


class ServiceAccountCreate(Input):
    name: Name
    tokenEndpointAuthMethod: Literal["client_secret_basic", "private_key_jwt"]
    role: RoleText
    publicKey: PublicJWK | text(20_000, min_length=1) | None = Field(
        None, description="private_key_jwt only: an RSA public key as a JWK object, or a PEM string."
    )


class BasicServiceAccountCreated(BaseModel):
    clientId: str
    clientSecret: str = Field(description="Shown once: only its SHA-256 is kept.")
    clientIdIssuedAt: int = Field(description="Unix seconds.")
    company: str


class JWTServiceAccountCreated(BaseModel):
    clientId: str
    clientIdIssuedAt: int


class EnvironmentRoleEdit(Input):
    envId: IdText
    role: RoleText = Field(description="reporter or maintainer; '' removes the environment role.")


class ProjectRoleEdit(Input):
    projectId: IdText
    role: RoleText | None = Field(
        None,
        description="Omitted: unchanged. '' removes the project role, unless environmentsRole is sent too "
        "(then the project role is unchanged).",
    )
    environmentsRole: list[EnvironmentRoleEdit] | None = Field(None, max_length=MAX_ITEMS)


class EditIAMRole(Input):
    role: RoleText | None = Field(None, description="Company role; omitted or '' leaves it unchanged.")
    projectsRole: list[ProjectRoleEdit] | None = Field(None, max_length=MAX_ITEMS)
    until: AwareDatetime | None = Field(
        None,
        description="RFC 3339 with an offset, in the future: the roles this request sets end then, and the "
        "role each replaced (or none) holds again. Omitted: they last (a company role sent again becomes "
        "lasting). Project and environment roles sent as they already are keep their own end.",
    )


# -- me and decisions --------------------------------------------------------------------------------


class Me(BaseModel):
    clientId: str
    name: str
    authMethod: str
    company: str | None = Field(description="The company slug; null for a root service account.")
    role: str | None = Field(description="Effective company role; null when none.")
    rootPermissions: list[str]
    lastLogin: str


class AuthzCheck(Input):
    identity: text(320, min_length=1) = Field(
        description="A user's email, a service account's clientId, or group:<company>/<group name>."
    )
    resource: text(200, min_length=1) = Field(
        description="<company>, <company>/<project> or <company>/<project>/<env>."
    )
    permission: text(200, min_length=1) = Field(description="A permission key, e.g. console.project.view.")


class AuthzDecision(BaseModel):
    allowed: bool
    paths: list[str] = Field(
        description="The bindings that grant the permission, as `manage.py explain` prints."
    )


# -- OAuth -------------------------------------------------------------------------------------------


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int = Field(examples=[3600])


class OAuthErrorBody(BaseModel):
    error: str = Field(examples=["invalid_client"])
    error_description: str
    statusCode: int
    message: str
