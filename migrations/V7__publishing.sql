-- Publishing: what the blog needs beyond the seed's content tables. All of
-- it is additive; every seed name stays as it is.

-- posts.category_id: the seed has categories but nothing links a post to
-- one. A post has at most one category; deleting the category keeps the
-- post and clears the link.
ALTER TABLE posts ADD COLUMN category_id uuid
    CONSTRAINT posts_category_id_fkey REFERENCES categories (id) ON DELETE SET NULL;
CREATE INDEX posts_category_id_idx ON posts (category_id);

-- posts.search_vector: full-text search over title (weight A), excerpt (B)
-- and content (C), kept current by PostgreSQL itself, with a GIN index.
ALTER TABLE posts ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english'::regconfig, title), 'A')
    || setweight(to_tsvector('english'::regconfig, coalesce(excerpt, '')), 'B')
    || setweight(to_tsvector('english'::regconfig, coalesce(content, '')), 'C')
) STORED;
CREATE INDEX posts_search_vector_idx ON posts USING gin (search_vector);

-- The public order (newest published first) with a unique tie-breaker, so
-- keyset pagination reads one index range per page and never a COUNT(*).
CREATE INDEX posts_published_order_idx ON posts (published_at DESC, id DESC)
    WHERE status = 'published';

-- A published post always has its publication time.
ALTER TABLE posts ADD CONSTRAINT posts_published_at_check
    CHECK (status <> 'published' OR published_at IS NOT NULL);

-- updated_at means "the author changed it": counting a view is not an edit.
DROP TRIGGER posts_set_updated_at ON posts;
CREATE TRIGGER posts_set_updated_at
    BEFORE UPDATE OF user_id, title, content, excerpt, slug, status, featured, published_at, category_id
    ON posts FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- tags.usage_count counts the posts carrying the tag. A trigger on
-- post_tags keeps it exact: every link added or removed (also by the
-- cascade of a deleted post) updates the tag's row, and the row lock makes
-- concurrent edits queue instead of losing an increment.
CREATE FUNCTION post_tags_count_usage() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE tags SET usage_count = coalesce(usage_count, 0) + 1 WHERE id = NEW.tag_id;
    ELSE
        UPDATE tags SET usage_count = greatest(coalesce(usage_count, 0) - 1, 0) WHERE id = OLD.tag_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER post_tags_count_usage AFTER INSERT OR DELETE ON post_tags
    FOR EACH ROW EXECUTE FUNCTION post_tags_count_usage();
UPDATE tags SET usage_count = (SELECT count(*) FROM post_tags WHERE post_tags.tag_id = tags.id);
