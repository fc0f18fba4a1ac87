-- Posts, categories, tags and the post/tag link (seed: content.ts).
-- The seed declares categories.name/slug and tags.name/slug both `.unique()`
-- and with named unique indexes: the named indexes do both jobs.

CREATE TABLE posts (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL CONSTRAINT posts_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    title text NOT NULL,
    content text,
    excerpt text,
    slug text NOT NULL,
    status text NOT NULL DEFAULT 'draft',
    featured boolean DEFAULT false,
    view_count integer DEFAULT 0,
    published_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT posts_status_check CHECK (status IN ('draft', 'published', 'archived'))
);
CREATE UNIQUE INDEX posts_slug_idx ON posts (slug);
CREATE INDEX posts_user_id_idx ON posts (user_id);
CREATE INDEX posts_status_idx ON posts (status);
CREATE INDEX posts_published_at_idx ON posts (published_at);
CREATE INDEX posts_featured_idx ON posts (featured);
CREATE TRIGGER posts_set_updated_at BEFORE UPDATE ON posts
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE categories (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL,
    slug text NOT NULL,
    description text,
    color text DEFAULT '#6366f1',
    sort_order integer DEFAULT 0,
    is_active boolean DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX categories_name_idx ON categories (name);
CREATE UNIQUE INDEX categories_slug_idx ON categories (slug);

CREATE TABLE tags (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL,
    slug text NOT NULL,
    usage_count integer DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tags_name_idx ON tags (name);
CREATE UNIQUE INDEX tags_slug_idx ON tags (slug);
CREATE INDEX tags_usage_count_idx ON tags (usage_count);

CREATE TABLE post_tags (
    post_id uuid NOT NULL CONSTRAINT post_tags_post_id_fkey REFERENCES posts (id) ON DELETE CASCADE,
    tag_id uuid NOT NULL CONSTRAINT post_tags_tag_id_fkey REFERENCES tags (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT post_tags_post_id_tag_id_pk PRIMARY KEY (post_id, tag_id)
);
CREATE INDEX post_tags_post_id_idx ON post_tags (post_id);
CREATE INDEX post_tags_tag_id_idx ON post_tags (tag_id);
