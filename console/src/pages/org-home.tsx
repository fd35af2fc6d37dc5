import { api, seg } from '../api.js';
import { Refusal, usePermissions } from '../permissions.js';
import { Link } from '../router.js';
import type { Project } from '../types.js';
import { Age, ErrorNotice, Loading, TableWrap, TextField, useAction, useResource } from '../ui.js';

/** The organization's projects, and a form to create one (for those who may). */
export function OrgHome({ org }: { org: string }) {
  const perms = usePermissions(org);
  // Asked once the answer says the caller may list them: a refusal would be an audited denial.
  const projects = useResource<Project[]>(perms.listProjects ? `/orgs/${seg(org)}/projects` : null);
  const create = useAction();
  const gate = perms.gate('project:create');
  return (
    <section>
      <h1>Projects</h1>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          const form = e.currentTarget;
          const slug = String((new FormData(form).get('slug') as string | null) ?? '');
          void create.run(async () => {
            await api('POST', `/orgs/${seg(org)}/projects`, { slug });
            form.reset();
            projects.reload();
            window.dispatchEvent(new Event('hush:projects-changed'));
          });
        }}
      >
        <TextField
          label="New project slug"
          name="slug"
          required
          {...gate}
          error={create.error?.fieldMessage('slug')}
        />
        <button type="submit" className="primary" {...gate} disabled={gate.disabled || create.busy}>
          Create project
        </button>
      </form>
      <Refusal reason={perms.reason('project:create')} />
      <ErrorNotice error={create.error?.fields.length ? undefined : create.error} />
      <ErrorNotice error={projects.error} />
      {perms.loaded && !perms.listProjects ? (
        <Refusal reason={`Your role (${perms.roleLabel}) cannot list projects`} />
      ) : projects.loading && !projects.data ? (
        <Loading what="projects" />
      ) : (
        <TableWrap label="Projects">
          <thead>
            <tr>
              <th>Project</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {(projects.data ?? []).map((p) => (
              <tr key={p.id}>
                <td>
                  <Link href={`/orgs/${seg(org)}/projects/${seg(p.slug)}/secrets`}>{p.slug}</Link>
                </td>
                <td>
                  <Age iso={p.createdAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      )}
    </section>
  );
}
