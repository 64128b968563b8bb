import { localRowCaches } from '../cache/invalidated-cache';
import type { Principal } from '../auth/scopes';
import { ApiError } from '../common/errors/api-error';
import { TemplateVersion } from './entities/template-version.entity';
import { Template } from './entities/template.entity';
import type { TemplateScope } from './template-scope';
import type {
  TemplatePosition,
  TemplatesRepository,
  TemplateWithVersion,
  VersionContent,
} from './templates.repository';
import { TemplatesService } from './templates.service';

const CREATED = new Date('2026-01-01T10:00:00Z');
const UPDATED = new Date('2026-01-02T10:00:00Z');

const ADMIN: Principal = {
  keyId: null,
  team: 'platform',
  scopes: new Set(['admin']),
  isAdmin: true,
};
const ALPHA: Principal = {
  keyId: 'k-alpha',
  team: 'alpha',
  scopes: new Set(['templates:read', 'templates:write']),
  isAdmin: false,
};

function row(key: string, n: number, content: Partial<VersionContent> = {}): TemplateWithVersion {
  const template = Object.assign(new Template(), {
    id: `id-${key}`,
    key,
    ownerTeam: null,
    currentVersion: n,
    archivedAt: null,
    createdAt: CREATED,
    updatedAt: UPDATED,
  });
  const version = Object.assign(new TemplateVersion(), {
    id: `v-${key}-${n}`,
    templateId: template.id,
    version: n,
    body: 'Hi {{name}}',
    variables: ['name'],
    senderId: null,
    description: null,
    category: 'transactional',
    createdAt: UPDATED,
    ...content,
  });
  return { template, version };
}

/** The repository's surface as the service uses it, each method a jest mock. */
function fakeRepository() {
  return {
    createWithFirstVersion: jest.fn<
      Promise<{ created: TemplateWithVersion } | { takenBy: string | null }>,
      [string, string | null, VersionContent]
    >(),
    addVersion: jest.fn<
      Promise<TemplateWithVersion | null>,
      [string, string | null, (current: TemplateVersion) => VersionContent]
    >(),
    findCurrent: jest.fn<Promise<TemplateWithVersion | null>, [string, TemplateScope, boolean]>(),
    listCurrent: jest.fn<
      Promise<TemplateWithVersion[]>,
      [TemplateScope, boolean, TemplatePosition | undefined, number]
    >(),
    findTemplate: jest.fn<Promise<Template | null>, [string, TemplateScope, boolean]>(),
    findVersion: jest.fn<Promise<TemplateVersion | null>, [string, number]>(),
    listVersions: jest.fn<Promise<TemplateVersion[]>, [string, number, number]>(),
    archive: jest.fn<Promise<boolean>, [string, string | null]>(),
  };
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe(TemplatesService.name, () => {
  let repo: ReturnType<typeof fakeRepository>;
  let service: TemplatesService;

  beforeEach(() => {
    repo = fakeRepository();
    service = new TemplatesService(repo as unknown as TemplatesRepository, localRowCaches());
  });

  describe('create', () => {
    it('stores the variables it found and answers in snake_case', async () => {
      repo.createWithFirstVersion.mockImplementation((key, _owner, content) =>
        Promise.resolve({ created: row(key, 1, content) }),
      );
      const response = await service.create(ADMIN, {
        key: 'order_shipped',
        body: 'Order {{order.id}} for {{name}}',
        sender_id: 'Acme',
      });
      expect(repo.createWithFirstVersion).toHaveBeenCalledWith('order_shipped', null, {
        body: 'Order {{order.id}} for {{name}}',
        variables: ['order.id', 'name'],
        senderId: 'Acme',
        smartEncoding: false,
        description: null,
        category: 'transactional',
      });
      expect(response).toEqual({
        key: 'order_shipped',
        version: 1,
        body: 'Order {{order.id}} for {{name}}',
        variables: ['order.id', 'name'],
        sender_id: 'Acme',
        description: null,
        category: 'transactional',
        smart_encoding: false,
        warnings: [],
        owner_team: null,
        created_at: CREATED.toISOString(),
        updated_at: UPDATED.toISOString(),
        archived: false,
      });
    });

    it("makes a team's template its own and an admin's shared", async () => {
      repo.createWithFirstVersion.mockImplementation((key, owner, content) => {
        const created = row(key, 1, content);
        created.template.ownerTeam = owner;
        return Promise.resolve({ created });
      });
      expect(await service.create(ALPHA, { key: 'a', body: 'x' })).toMatchObject({
        owner_team: 'alpha',
      });
      expect(await service.create(ADMIN, { key: 'b', body: 'x' })).toMatchObject({
        owner_team: null,
      });
    });

    it('answers 409 template_exists naming the namespace that holds the key', async () => {
      repo.createWithFirstVersion.mockResolvedValue({ takenBy: 'alpha' });
      const own = await rejection(service.create(ALPHA, { key: 'taken', body: 'x' }));
      expect([own.status, own.code, own.details]).toEqual([
        409,
        'template_exists',
        { key: 'taken', owner_team: 'alpha' },
      ]);
      repo.createWithFirstVersion.mockResolvedValue({ takenBy: null });
      const shared = await rejection(service.create(ALPHA, { key: 'taken', body: 'x' }));
      expect(shared.details).toEqual({ key: 'taken', owner_team: null });
      expect(shared.message).toContain('shared');
    });

    it("creates in the team an admin names, and refuses a team naming another's (403)", async () => {
      repo.createWithFirstVersion.mockImplementation((key, _owner, content) =>
        Promise.resolve({ created: row(key, 1, content) }),
      );
      await service.create(ADMIN, { key: 'for_beta', body: 'x', owner_team: 'beta' });
      expect(repo.createWithFirstVersion).toHaveBeenLastCalledWith(
        'for_beta',
        'beta',
        expect.anything(),
      );
      await service.create(ALPHA, { key: 'mine', body: 'x', owner_team: 'alpha' });
      expect(repo.createWithFirstVersion).toHaveBeenLastCalledWith(
        'mine',
        'alpha',
        expect.anything(),
      );
      const error = await rejection(
        service.create(ALPHA, { key: 'planted', body: 'x', owner_team: 'beta' }),
      );
      expect([error.status, error.code]).toEqual([403, 'forbidden']);
      expect(repo.createWithFirstVersion).toHaveBeenCalledTimes(2);
    });

    it('answers 422 invalid_template without touching the database', async () => {
      const error = await rejection(service.create(ALPHA, { key: 'bad', body: '{{#if x}}' }));
      expect([error.status, error.code]).toEqual([422, 'invalid_template']);
      expect(repo.createWithFirstVersion).not.toHaveBeenCalled();
    });
  });

  describe('update', () => {
    const current = row('k', 3, { senderId: 'Old', description: 'kept' }).version;

    it('carries sender and description over when left out', async () => {
      repo.addVersion.mockImplementation((key, _editor, next) =>
        Promise.resolve(row(key, 4, next(current))),
      );
      const response = await service.update(ADMIN, 'k', { body: 'New {{x}}' });
      expect(response).toMatchObject({
        version: 4,
        variables: ['x'],
        sender_id: 'Old',
        description: 'kept',
      });
    });

    it('clears them when given null', async () => {
      repo.addVersion.mockImplementation((key, _editor, next) =>
        Promise.resolve(row(key, 4, next(current))),
      );
      const response = await service.update(ADMIN, 'k', {
        body: 'New',
        sender_id: null,
        description: null,
      });
      expect(response).toMatchObject({ sender_id: null, description: null });
    });

    it('answers 404 template_not_found for a missing or archived template', async () => {
      repo.addVersion.mockResolvedValue(null);
      repo.findTemplate.mockResolvedValue(null);
      const error = await rejection(service.update(ALPHA, 'gone', { body: 'x' }));
      expect([error.status, error.code]).toEqual([404, 'template_not_found']);
    });

    it('answers 403 to a team changing a shared template it can see', async () => {
      repo.addVersion.mockResolvedValue(null);
      repo.findTemplate.mockResolvedValue(row('shared', 1).template);
      const error = await rejection(service.update(ALPHA, 'shared', { body: 'x' }));
      expect([error.status, error.code]).toEqual([403, 'forbidden']);
      expect(repo.addVersion).toHaveBeenCalledWith('shared', 'alpha', expect.any(Function));
    });
  });

  describe('getVersion', () => {
    it('answers 404 template_version_not_found for a version that does not exist', async () => {
      repo.findTemplate.mockResolvedValue(row('k', 2).template);
      repo.findVersion.mockResolvedValue(null);
      const error = await rejection(service.getVersion(ALPHA, 'k', 5));
      expect([error.status, error.code]).toEqual([404, 'template_version_not_found']);
    });

    it('marks whether the version is the current one', async () => {
      const { template } = row('k', 2);
      repo.findTemplate.mockResolvedValue(template);
      repo.findVersion.mockResolvedValue(row('k', 1).version);
      expect(await service.getVersion(ALPHA, 'k', 1)).toMatchObject({
        key: 'k',
        version: 1,
        current: false,
      });
    });
  });

  describe('archive', () => {
    it('answers 404 when there was nothing active to archive', async () => {
      repo.archive.mockResolvedValue(false);
      repo.findTemplate.mockResolvedValue(null);
      const error = await rejection(service.archive(ALPHA, 'k'));
      expect([error.status, error.code]).toEqual([404, 'template_not_found']);
    });
  });

  describe('getActiveVersion', () => {
    it('returns the current version with its template key', async () => {
      repo.findCurrent.mockResolvedValue(row('welcome', 2));
      const version = await service.getActiveVersion(ALPHA, 'welcome');
      expect(version).toMatchObject({ templateKey: 'welcome', version: 2, body: 'Hi {{name}}' });
      expect(repo.findCurrent).toHaveBeenCalledWith(
        'welcome',
        { kind: 'team', team: 'alpha' },
        false,
      );
      // An admin key sends for its own team too: the notification is recorded under it.
      await service.getActiveVersion(ADMIN, 'welcome');
      expect(repo.findCurrent).toHaveBeenLastCalledWith(
        'welcome',
        { kind: 'team', team: 'platform' },
        false,
      );
    });

    it('answers 404 template_not_found when missing or archived', async () => {
      repo.findCurrent.mockResolvedValue(null);
      const error = await rejection(service.getActiveVersion(ALPHA, 'gone'));
      expect([error.status, error.code]).toEqual([404, 'template_not_found']);
    });
  });

  describe('list', () => {
    it('checks limit and cursor before any query', async () => {
      for (const limit of ['0', '101']) {
        const error = await rejection(service.list(ALPHA, { limit }));
        expect([error.status, error.code]).toEqual([422, 'invalid_limit']);
      }
      const error = await rejection(service.list(ALPHA, { cursor: 'not-a-cursor' }));
      expect([error.status, error.code]).toEqual([422, 'invalid_cursor']);
      expect(repo.listCurrent).not.toHaveBeenCalled();
    });

    it('fetches one more than the page to know whether a next page exists', async () => {
      repo.listCurrent.mockResolvedValue([row('a', 1), row('b', 1), row('c', 1)]);
      const first = await service.list(ALPHA, { limit: '2' });
      expect(repo.listCurrent).toHaveBeenCalledWith(
        { kind: 'team', team: 'alpha' },
        false,
        undefined,
        3,
      );
      expect(first.data.map((t) => t.key)).toEqual(['a', 'b']);
      expect(first.next_cursor).toEqual(expect.any(String));

      repo.listCurrent.mockResolvedValue([row('c', 1)]);
      const second = await service.list(ADMIN, { limit: '2', cursor: first.next_cursor! });
      expect(repo.listCurrent).toHaveBeenLastCalledWith(
        { kind: 'all' },
        false,
        { key: 'b', owner: '' },
        3,
      );
      expect(second).toMatchObject({ data: [{ key: 'c' }], next_cursor: null });
    });

    it("refuses a team naming another team's namespace (403), whatever it holds", async () => {
      const error = await rejection(service.list(ALPHA, { owner_team: 'beta' }));
      expect([error.status, error.code]).toEqual([403, 'forbidden']);
      expect(repo.listCurrent).not.toHaveBeenCalled();
    });
  });

  describe('listVersions', () => {
    it('pages versions after the cursor, 50 by default', async () => {
      repo.findTemplate.mockResolvedValue(row('k', 3).template);
      repo.listVersions.mockResolvedValue([row('k', 1).version]);
      const page = await service.listVersions(ALPHA, 'k');
      expect(repo.listVersions).toHaveBeenCalledWith('id-k', 0, 51);
      expect(page).toMatchObject({ data: [{ version: 1, current: false }], next_cursor: null });
    });

    it('checks the limit before looking the template up', async () => {
      const error = await rejection(service.listVersions(ALPHA, 'k', { limit: '500' }));
      expect([error.status, error.code]).toEqual([422, 'invalid_limit']);
      expect(repo.findTemplate).not.toHaveBeenCalled();
    });
  });

  describe('render', () => {
    const version = row('k', 1, { body: '{{a}} {{b}}', variables: ['a', 'b'] }).version;

    it('renders and measures the text', () => {
      expect(service.render(version, { a: 'x', b: 2 })).toEqual({
        text: 'x 2',
        characters: 3,
        encoding: 'GSM-7',
        segments: 1,
      });
    });

    it('throws 422 missing_variables naming all of them', () => {
      let error: unknown;
      try {
        service.render(version, {});
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({
        status: 422,
        code: 'missing_variables',
        details: { missing: ['a', 'b'] },
      });
    });
  });
});
