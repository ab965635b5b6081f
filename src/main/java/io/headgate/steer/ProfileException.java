package io.headgate.steer;

/**
 * An invalid profile, or a profile operation on something that does not exist. {@link #field()} is the
 * path of the offending part relative to the profile ("gains[2].head", "biases[0].vector", "name"), so
 * the API can prefix it with where the profile sat in the request.
 */
public class ProfileException extends IllegalArgumentException {

    private final String field;

    public ProfileException(String field, String message) {
        super(message);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
