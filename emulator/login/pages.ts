import type { Application, AppRole } from '../model.js';

/** What Microsoft's consent prompt says for each Graph application permission. */
export const PERMISSION_TEXT: Record<AppRole, string> = {
  'Directory.Read.All': 'Read directory data',
  'Group.Read.All': 'Read all groups',
  'GroupMember.Read.All': 'Read all group memberships',
  'Member.Read.Hidden': 'Read all hidden memberships',
  'Organization.Read.All': 'Read organization information',
  'User.Read.All': "Read all users' full profiles",
};

const escape = (value: string) =>
  value.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);

function page(title: string, content: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · Entra emulator</title>
<style>
body{margin:0;font-family:"Segoe UI",system-ui,sans-serif;background:#f2f2f2;color:#1b1b1b}
.banner{background:#a4262c;color:#fff;padding:.5rem 1rem;font-weight:600;text-align:center}
.card{max-width:440px;margin:3rem auto;background:#fff;padding:2.25rem 2.75rem;box-shadow:0 2px 6px rgba(0,0,0,.2)}
.logo{font-weight:600;color:#5e5e5e;margin-bottom:1rem}.logo b{color:#f25022}
h1{font-size:1.5rem;font-weight:600;margin:.5rem 0 1rem}
ul{padding-left:1.2rem}li{margin:.35rem 0}.muted{color:#616161;font-size:.875rem}
.buttons{display:flex;gap:.5rem;justify-content:flex-end;margin-top:1.5rem}
button{font:inherit;padding:.45rem 1.6rem;border:1px solid #8a8886;background:#fff;cursor:pointer}
button.primary{background:#0067b8;border-color:#0067b8;color:#fff}
select{font:inherit;width:100%;padding:.35rem}.error{color:#a4262c}code{font-size:.85rem}
</style></head>
<body><div class="banner" role="note">Entra emulator — this is not Microsoft. Nothing here touches a real directory.</div>
<main class="card"><div class="logo"><b>■</b> Microsoft (emulated)</div>${content}</main></body></html>`;
}

export interface ConsentPageInput {
  app: Application;
  tenants: Array<{ id: string; displayName: string; domain: string; upn?: string; canConsent: boolean }>;
  action: string;
  fields: Record<string, string>;
}

export function consentPage({ app, tenants, action, fields }: ConsentPageInput): string {
  const hidden = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escape(name)}" value="${escape(value)}">`)
    .join('');
  const single = tenants.length === 1 ? tenants[0] : undefined;
  const account = single
    ? `<p class="muted">Signed in as <b>${escape(single.upn ?? `admin@${single.domain}`)}</b> (${escape(single.displayName)})</p><input type="hidden" name="tenant_choice" value="${escape(single.id)}">`
    : `<label class="muted" for="tenant_choice">Sign in as the administrator of</label>
       <select id="tenant_choice" name="tenant_choice">${tenants
         .map((tenant) => `<option value="${escape(tenant.id)}">${escape(tenant.displayName)} (admin@${escape(tenant.domain)})</option>`)
         .join('')}</select>`;
  if (single && !single.canConsent) {
    return page(
      'Need admin approval',
      `<form method="post" action="${escape(action)}">${hidden}${account}<h1>Need admin approval</h1>
       <p><b>${escape(app.displayName)}</b> needs permission to access resources in your organization that only an admin can grant. Please ask an admin to grant permission to this app before you can use it.</p>
       <div class="buttons">
       <button class="primary" type="submit" name="decision" value="not_admin">Return to the application without granting consent</button></div></form>`,
    );
  }
  return page(
    'Permissions requested',
    `<form method="post" action="${escape(action)}">${hidden}${account}
     <h1>Permissions requested</h1>
     <p><b>${escape(app.displayName)}</b><br><span class="muted">unverified · emulated application</span></p>
     <p>This application would like to:</p>
     <ul>${app.requiredAppRoles.map((role) => `<li>${escape(PERMISSION_TEXT[role])} <code class="muted">${escape(role)}</code></li>`).join('')}</ul>
     <p class="muted">If you accept, this app will get access to the specified resources for all users in your organization. No one else will be prompted to review these permissions.</p>
     <div class="buttons"><button type="submit" name="decision" value="cancel">Cancel</button>
     <button class="primary" type="submit" name="decision" value="accept">Accept</button></div></form>`,
  );
}

export function errorPage(code: string, message: string): string {
  return page(
    'Sign in error',
    `<h1>Sorry, but we’re having trouble signing you in.</h1><p class="error">AADSTS${escape(code)}: ${escape(message)}</p>`,
  );
}

export interface SignInPageInput {
  appName: string;
  action: string;
  fields: Record<string, string>;
  accounts: Array<{ value: string; upn: string; name: string; tenantName: string; roles: string[] }>;
}

/** "Pick an account": every account the tenant (or, on `organizations`, every tenant) offers. */
export function signInPage({ appName, action, fields, accounts }: SignInPageInput): string {
  const hidden = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escape(name)}" value="${escape(value)}">`)
    .join('');
  const options = accounts
    .map(
      (account, index) =>
        `<li><label><input type="radio" name="account" value="${escape(account.value)}"${index === 0 ? ' checked' : ''}> <b>${escape(account.name)}</b><br><span class="muted">${escape(account.upn)} · ${escape(account.tenantName)}${account.roles.length > 0 ? ` · ${escape(account.roles.join(', '))}` : ''}</span></label></li>`,
    )
    .join('');
  return page(
    'Pick an account',
    `<form method="post" action="${escape(action)}">${hidden}
     <h1>Pick an account</h1><p class="muted">to continue to <b>${escape(appName)}</b></p>
     <ul style="list-style:none;padding:0">${options}</ul>
     <label class="muted" for="login">Or sign in as another account (email)</label>
     <input id="login" name="login" type="email" autocomplete="off" style="width:100%;font:inherit;padding:.35rem">
     <div class="buttons"><button type="submit" name="decision" value="cancel">Cancel</button>
     <button class="primary" type="submit" name="decision" value="sign_in">Sign in</button></div></form>`,
  );
}
