/** Cursor-paginated lists (`?limit=&cursor=` → `{items, next_cursor}`) that a screen shows whole. */

export const PAGE_SIZE = 200;

export interface PageQuery {
  limit: number;
  cursor?: string;
}

/**
 * Every item of a list, following `next_cursor` page by page; at most `maxPages` pages (a bound, should a
 * server ever hand out cursors without end).
 */
export async function allPages<T>(
  fetchPage: (query: PageQuery) => Promise<{ items: T[]; next_cursor: string | null }>,
  maxPages = 50,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < maxPages; page += 1) {
    const found: { items: T[]; next_cursor: string | null } = await fetchPage({
      limit: PAGE_SIZE,
      ...(cursor && { cursor }),
    });
    items.push(...found.items);
    cursor = found.next_cursor;
    if (!cursor) break;
  }
  return items;
}
