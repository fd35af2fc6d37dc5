import { randomBytes } from 'node:crypto';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  addMember,
  bootstrapOwner,
  jobLog,
  OWNER,
  startTestServer,
  type TestServer,
  waitForJob,
} from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';
import { pgAdmin, pgUrl } from '../helpers/postgres.js';

// "Verifying Secret Precedence with PostgreSQL" from ../shared/seeds/qfieldcloud-secrets-v2.md,
// end to end: real PostGIS, real roles, a real trigger recording current_user, real psql in jobs.
const O = `/api/v1/orgs/${OWNER.org}`;
const ROLES = { org: 'ninja_org', project: 'ninja_project', user: 'ninja_user' };

describe.runIf(DIALECTS.includes('postgres'))('the seed precedence scenario', () => {
  const database = `hush_ninja_${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    await pgAdmin(async (c) => {
      await c.query(`create database ${database}`);
      for (const [role, password] of [
        [ROLES.org, 'your_strong_password_for_org'],
        [ROLES.project, 'your_strong_password_for_project'],
        [ROLES.user, 'strong_password_for_user_001'],
      ]) {
        await c.query(
          `do $$ begin create role ${role} login password '${password}'; exception when duplicate_object then null; end $$`,
        );
      }
    });
    const client = new pg.Client({ connectionString: pgUrl(database) });
    await client.connect();
    await client.query(`
      create extension if not exists postgis;
      create extension if not exists "uuid-ossp";
      create schema if not exists ninja;
      create table if not exists ninja.ninja_point (
        id uuid primary key default uuid_generate_v4(),
        pg_user text,
        some_value text not null,
        geom geometry(point, 4326)
      );
      begin;
      set local search_path to ninja, public;
      create or replace function update_pg_user() returns trigger as $$
      begin
        new.pg_user := current_user;
        return new;
      end;
      $$ language plpgsql set search_path from current;
      commit;
      begin;
      set local search_path to ninja, public;
      drop trigger if exists trg_ninja_point_update_pg_user on ninja.ninja_point;
      create trigger trg_ninja_point_update_pg_user before insert or update on ninja_point
        for each row execute function update_pg_user();
      commit;
      grant usage on schema ninja to ninja_org, ninja_project, ninja_user;
      grant select, references, insert, update, delete on all tables in schema ninja
        to ninja_org, ninja_project, ninja_user;
    `);
    await client.end();
  }, 60_000);

  afterAll(() => pgAdmin((c) => c.query(`drop database if exists ${database} with (force)`)));

  async function pgUserOf(jobId: string): Promise<string | undefined> {
    const client = new pg.Client({ connectionString: pgUrl(database) });
    await client.connect();
    try {
      const res = await client.query<{ pg_user: string }>(
        'select pg_user from ninja.ninja_point where some_value = $1',
        [jobId],
      );
      return res.rows[0]?.pg_user;
    } finally {
      await client.end();
    }
  }

  describe.each(DIALECTS)('with Hush on %s', (dialect) => {
    let t: TestServer;
    let owner: string;
    let alice: string;
    let bob: string;

    beforeAll(async () => {
      t = await startTestServer(dialect, {}, { workers: 2 });
      owner = await bootstrapOwner(t);
      alice = await addMember(t, owner, 'alice@example.com', 'devops');
      bob = await addMember(t, owner, 'bob@example.com', 'devops');
      await t.call('POST', `${O}/projects`, { token: owner, body: { slug: 'qfield' } });
      const command = `psql "service=ninja" -v ON_ERROR_STOP=1 -Xqc "insert into ninja.ninja_point (some_value, geom) values ('$HUSH_JOB_ID', ST_SetSRID(ST_MakePoint(7.44, 46.95), 4326))"`;
      await t.call('POST', `${O}/projects/qfield/services`, {
        token: owner,
        body: { name: 'insert-point', command, timeout: '1m' },
      });
    }, 60_000);
    afterAll(() => t.close());

    const ninja = (user: string, password: string) => ({
      kind: 'pgservice',
      name: 'ninja',
      settings: {
        host: '127.0.0.1',
        port: '5432',
        dbname: database,
        user,
        password,
        sslmode: 'disable',
      },
    });

    async function insertAs(token: string): Promise<string | undefined> {
      const res = await t.call('POST', `${O}/jobs`, {
        token,
        body: { project: 'qfield', service: 'insert-point' },
      });
      expect(res.status, res.text).toBe(201);
      const job = await waitForJob(t, token, res.body.id);
      expect(job.status, await jobLog(t, token, res.body.id)).toBe('succeeded');
      return pgUserOf(res.body.id);
    }

    it('scenario 1: an organization-level secret writes as the org role', async () => {
      await t.call('POST', `${O}/secrets`, {
        token: owner,
        body: { secret: ninja(ROLES.org, 'your_strong_password_for_org') },
      });
      expect(await insertAs(alice)).toBe(ROLES.org);
    });

    it('scenario 2: a project-level secret takes precedence over the organization', async () => {
      await t.call('POST', `${O}/secrets`, {
        token: owner,
        body: {
          project: 'qfield',
          secret: ninja(ROLES.project, 'your_strong_password_for_project'),
        },
      });
      expect(await insertAs(alice)).toBe(ROLES.project);
    });

    it('scenario 3: a secret assigned to a member wins for that member only', async () => {
      const res = await t.call('POST', `${O}/secrets`, {
        token: owner,
        body: {
          project: 'qfield',
          assignee: 'alice@example.com',
          secret: ninja(ROLES.user, 'strong_password_for_user_001'),
        },
      });
      expect(res.status, res.text).toBe(201);
      expect(await insertAs(alice)).toBe(ROLES.user);
      expect(await insertAs(bob)).toBe(ROLES.project);
    });
  });
});
