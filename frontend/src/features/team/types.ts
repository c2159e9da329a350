import type { components } from '../../api/schema';

type Schemas = components['schemas'];

export type Invitation = Schemas['InvitationOut'];
export type InvitedRole = Invitation['role'];
export type InvitationPreview = Schemas['InvitationPreviewOut'];
export type Acceptance = Schemas['AcceptInvitation'];
export type Member = Schemas['MemberOut'];
export type Deactivation = Schemas['DeactivationOut'];
export type RoleChange = Schemas['RoleChangeOut'];
